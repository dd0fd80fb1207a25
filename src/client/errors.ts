/** Errors a client meets: ones the node reported, and failing to reach a node at all. */
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
