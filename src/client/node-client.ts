/** Calling a node: one request, one reply; or a request whose replies stream. */
import { dataDir } from "../config/paths";
import type { Reply, ReplyOf, RequestInput, RequestType } from "../protocol";
import { connectNode } from "./autostart";
import type { NodeConnection } from "./connection";
import { NodeError } from "./errors";

export interface CallOptions {
  root?: string;
  autoStart?: boolean;
}

export async function open<T extends RequestType>(req: RequestInput<T>, opts: CallOptions = {}): Promise<NodeConnection> {
  const conn = await connectNode(opts.root ?? dataDir(), opts.autoStart ?? true);
  conn.send(req);
  return conn;
}

/** Sends `req` and returns its reply, checked to be of type `expect`. */
export async function call<T extends RequestType, R extends Reply["type"]>(req: RequestInput<T>, expect: R, opts: CallOptions = {}): Promise<ReplyOf<R>> {
  const conn = await open(req, opts);
  try {
    const reply = await conn.nextReply();
    if (!reply) throw new NodeError("internal", "the node closed the connection without answering", "see node.log in the data directory");
    if (reply.type !== expect) throw new NodeError("internal", `expected ${expect}, node sent ${reply.type}`, "restart the node with `cw stop && cw start`");
    return reply as ReplyOf<R>;
  } finally {
    conn.close();
  }
}
