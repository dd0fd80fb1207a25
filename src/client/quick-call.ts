/**
 * One request and its reply over the local node's socket, with blocking calls: the fast path
 * of short commands (`cw list`, `cw send`, `cw status`, …) that a person or an agent runs many
 * times. See sys/unix-socket.ts for why it blocks. Long-lived callers (the MCP server, attach,
 * anything that waits for events) use the event-driven NodeConnection instead.
 */
import type { Reply, RequestInput, RequestType } from "../protocol";
import { controlFrame, FrameReader } from "../protocol/frame";
import { PROTOCOL_VERSION } from "../protocol/version";
import { BlockingUnixSocket, SocketBroken, SocketTimeout, SocketUnreachable } from "../sys/unix-socket";
import { checkReply, NodeError, NodeUnavailableError } from "./errors";

/** How long a short request may wait for the node before the command gives up. */
export const QUICK_TIMEOUT_MS = 30_000;

/**
 * Sends `req` to the node listening on `socketPath` and returns its first control reply.
 * Returns undefined when no node listens there, so the caller can start one.
 */
export function quickCall<T extends RequestType>(socketPath: string, req: RequestInput<T>, timeoutMs = QUICK_TIMEOUT_MS): Reply | undefined {
  let sock: BlockingUnixSocket;
  try {
    sock = BlockingUnixSocket.connect(socketPath, timeoutMs);
  } catch (e) {
    if (e instanceof SocketUnreachable) return undefined;
    throw e;
  }
  try {
    sock.writeAll(controlFrame({ protocol: PROTOCOL_VERSION, ...req }));
    const reader = new FrameReader();
    for (;;) {
      // A fresh buffer each time: the reader keeps the chunks it was given until a frame is whole.
      const buf = new Uint8Array(64 * 1024);
      const n = sock.read(buf);
      if (n === 0) throw new NodeError("internal", "the node closed the connection without answering", "see node.log in the data directory");
      for (const f of reader.push(buf.subarray(0, n))) {
        if (f.kind === "control") return checkReply(f.message as Reply);
      }
    }
  } catch (e) {
    if (e instanceof SocketTimeout) {
      throw new NodeUnavailableError(`the node did not answer within ${timeoutMs / 1000}s`, "the request was withdrawn: a node drops a request whose client left before it was read, but one it had already read may still finish (`cw list` shows); see node.log in the data directory, and `cw stop && cw start` restarts the node");
    }
    if (e instanceof SocketBroken) {
      throw new NodeUnavailableError("the connection to the node broke before it answered", "try again; if it keeps happening, see node.log in the data directory");
    }
    throw e;
  } finally {
    sock.close();
  }
}
