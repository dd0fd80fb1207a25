/** Error codes that cross the wire; the CLI maps each to a message, a hint and an exit status. */
export const ERROR_CODES = [
  "bad_request",
  "unknown_request",
  "not_found",
  "name_taken",
  "invalid_name",
  "not_running",
  "spawn_failed",
  "version_mismatch",
  "too_large",
  "timeout",
  "disk_full",
  "conflict",
  "unavailable",
  /** The relay refused this node's token (deleted or rotated): an error, not bad usage. */
  "unauthorized",
  "internal",
  /** A peer message to, or pairing step with, a handle this node is not paired with. */
  "not_paired",
  /** The relay refused a handle or mail call (taken handle, a card it will not take, a full mailbox). */
  "relay_refused",
  /** The other node of this relay cannot take end-to-end envelopes (older cw): use the tunnel. */
  "no_end_to_end",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error the node reports to a client: a code, a message, and a hint at what to do next. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    /** For bad_request: what failed validation, by field (see ErrorReply.issues). */
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}
