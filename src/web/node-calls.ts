/**
 * The web app's calls to a node, over a client connection (a local socket, or a stream through
 * the relay's hub): one request, one reply; and a session's log, read to its end.
 */
import type { NodeConnection } from "../client/connection";
import { NodeError } from "../client/errors";
import type { Reply, ReplyOf, RequestInput, RequestType } from "../protocol";

const REQUEST_TIMEOUT_MS = 15_000;
/** A log shown in the browser is its last lines, never the whole file. */
export const LOG_TAIL_MAX = 5000;

/** Sends `req` on `conn` (which it then closes) and returns the reply of type `type`. */
export async function ask<T extends RequestType, R extends Reply["type"]>(conn: NodeConnection, req: RequestInput<T>, type: R): Promise<ReplyOf<R>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    conn.send(req);
    const reply = await Promise.race([
      conn.nextReply(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NodeError("timeout", `the node did not answer ${req.type} in time`, "try again; the node's node.log may say why")), REQUEST_TIMEOUT_MS);
      }),
    ]);
    if (!reply) throw new NodeError("unavailable", "the node closed the connection without answering", "is it stopping? try again");
    if (reply.type !== type) throw new NodeError("internal", `the node answered ${reply.type} where ${type} was expected`, "the node and this cw may be of different versions");
    return reply as ReplyOf<R>;
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

/** The last `tail` lines of a session's output as the text its terminal shows (the node renders it). */
export async function readLog(conn: NodeConnection, id: number | string, tail: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  try {
    conn.send({ type: "Logs", id, follow: false, plain: true, tail_lines: tail });
    for (;;) {
      const f = await conn.next();
      if (!f) break;
      if (f.kind === "data") {
        text += decoder.decode(f.bytes, { stream: true });
        continue;
      }
      const m = f.message as Reply;
      if (m.type === "Error") throw new NodeError(m.code, m.message, m.hint);
      if (m.type === "StreamEnd") break;
    }
  } finally {
    conn.close();
  }
  return text + decoder.decode();
}
