/** How the SSH gateway tells a failure: a line for the relay's log, a message for the user. */
import { NodeError, NodeUnavailableError } from "../client/errors";

/** A failure as the relay's log shows it. */
export function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** What a user sees for a failure: a message and a hint. */
export function userMessage(e: unknown, node: string): [string, string?] {
  if (e instanceof NodeUnavailableError) return [`node ${node} is not connected to the relay; \`cw nodes\` shows which are online`];
  if (e instanceof NodeError) return [e.message, e.hint];
  return [`the relay failed: ${(e as Error)?.message ?? String(e)}`];
}
