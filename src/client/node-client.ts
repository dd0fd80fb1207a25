/** Calling a node: one request, one reply; or a request whose replies stream. */
import { dataDir, pathsFor } from "../config/paths";
import type { Reply, ReplyOf, RequestInput, RequestType } from "../protocol";
import { connectNode } from "./autostart";
import type { NodeConnection } from "./connection";
import { NodeError, NodeUnavailableError } from "./errors";
import { QUICK_TIMEOUT_MS, quickCall } from "./quick-call";
import { remoteTarget } from "./remote-target";

export interface CallOptions {
  root?: string;
  autoStart?: boolean;
  /**
   * For short commands: talk to a local node with blocking calls (quick-call.ts), which is
   * faster for one request run once. Never for long-lived processes (the MCP server), whose
   * event loop must keep running while a request waits.
   */
  blocking?: boolean;
}

export async function open<T extends RequestType>(req: RequestInput<T>, opts: CallOptions = {}): Promise<NodeConnection> {
  const conn = await connectNode(opts.root ?? dataDir(), opts.autoStart ?? true);
  conn.send(req);
  return conn;
}

/** Sends `req` and returns its reply, checked to be of type `expect` (or one of the types it lists). */
export async function call<T extends RequestType, R extends Reply["type"]>(req: RequestInput<T>, expect: R | readonly R[], opts: CallOptions = {}): Promise<ReplyOf<R>> {
  if (opts.blocking && !remoteTarget()) {
    const reply = quickCall(pathsFor(opts.root ?? dataDir()).socket, req);
    // undefined: no node answered; the path below starts one.
    if (reply) return expected(reply, expect);
  }
  const conn = await open(req, opts);
  const remote = remoteTarget();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // A remote node gets the deadline a local one has (quick-call): a hung node, or one the
    // relay has not yet noticed is gone, must not hold the command for minutes. A request that
    // waits by design (MsgRequest's timeout_s) gets its own time on top.
    const waits = typeof (req as { timeout_s?: unknown }).timeout_s === "number" ? (req as { timeout_s: number }).timeout_s * 1000 : 0;
    const deadline = remote
      ? new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new NodeUnavailableError(`${remote.label} did not answer ${req.type} within ${(QUICK_TIMEOUT_MS + waits) / 1000}s`, "the node may be hung or its machine asleep: `cw nodes` shows whether it is online")), QUICK_TIMEOUT_MS + waits);
        })
      : undefined;
    const reply = await (deadline ? Promise.race([conn.nextReply(), deadline]) : conn.nextReply());
    if (!reply) throw new NodeError("internal", "the node closed the connection without answering", "see node.log in the data directory");
    return expected(reply, expect);
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function expected<R extends Reply["type"]>(reply: Reply, expect: R | readonly R[]): ReplyOf<R> {
  const ok = typeof expect === "string" ? reply.type === expect : (expect as readonly string[]).includes(reply.type);
  if (!ok) throw new NodeError("internal", `expected ${String(expect)}, node sent ${reply.type}`, "restart the node with `cw stop && cw start`");
  return reply as ReplyOf<R>;
}
