/** Talking to a node for the SSH gateway: requests, replies and streams over `NodeHub.dial`. */
import type { NodeConnection } from "../client/connection";
import { NodeError } from "../client/errors";
import type { Reply, ReplyOf } from "../protocol";
import type { NodeHub } from "./hub";

/** How long a one-shot request to a node (launch, kill, status) may take. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Sends one request on its own connection and returns the reply. */
export async function ask(hub: Pick<NodeHub, "dial">, node: string, req: { type: string; [k: string]: unknown }, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Reply> {
  const conn = hub.dial(node);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    conn.send(req);
    const reply = await Promise.race([
      conn.nextReply(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NodeError("timeout", `node ${node} did not answer ${req.type} in time`, "try again; see the node's node.log")), timeoutMs);
      }),
    ]);
    if (!reply) throw new NodeError("unavailable", `the connection to node ${node} ended`, "is it stopping? `cw nodes` shows which are online");
    return reply;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

export function expect<T extends Reply["type"]>(r: Reply, type: T): ReplyOf<T> {
  if (r.type !== type) throw new NodeError("internal", `the node answered ${r.type} where ${type} was expected`);
  return r as ReplyOf<T>;
}

/** The next frame of `conn` that is not data: each data frame goes to `data` first. */
export async function pump(conn: NodeConnection, data: (bytes: Uint8Array) => Promise<void> | void): Promise<Reply | null> {
  for (;;) {
    const f = await conn.next();
    if (!f) return null;
    if (f.kind === "data") {
      await data(f.bytes);
      continue;
    }
    const m = f.message as Reply;
    if (m.type === "Error") throw new NodeError(m.code, m.message, m.hint);
    return m;
  }
}

export function exitCodeOf(s: { status: string; exit_code: number | null }): number {
  if (s.exit_code !== null) return s.exit_code;
  return s.status === "completed" ? 0 : 1;
}

export function lost(node: string): never {
  throw new NodeError("unavailable", `the connection to node ${node} was lost`, "`cw nodes` shows which are online");
}
