/** Errors a client meets: ones the node reported, and failing to reach a node at all. */
import type { Reply } from "../protocol";
export class NodeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    /** For bad_request: what failed validation, by field of the request (ErrorReply.issues). */
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

export class NodeUnavailableError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A reply, or the NodeError it carries when the node answered with an error. */
export function checkReply(m: Reply): Reply {
  if (m.type === "Error") throw new NodeError(m.code, m.message, m.hint, m.issues);
  return m;
}
