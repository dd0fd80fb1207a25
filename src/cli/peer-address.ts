/** `name@relay-host:session`: a session of a paired peer's node (cw msg, cw request). */
import { HANDLE_RE } from "../protocol/agent-card";
import type { SessionRef } from "../protocol";
import { UsageError } from "./errors";
import { sessionRef } from "./target";

/** The handle and session of a peer address, or undefined when `target` is not one (no @). */
export function peerAddress(target: string | undefined): { handle: string; session: SessionRef } | undefined {
  if (!target?.includes("@")) return undefined;
  // The session follows the last colon: a handle's host may carry a port of its own.
  const colon = target.lastIndexOf(":");
  const handle = (colon > target.indexOf("@") ? target.slice(0, colon) : target).toLowerCase();
  if (colon <= target.indexOf("@") || !HANDLE_RE.test(handle)) {
    throw new UsageError(`<target>: ${JSON.stringify(target)} is not a peer's session`, "write name@relay-host:session, for example bob@relay.example.com:coder");
  }
  return { handle, session: sessionRef(target.slice(colon + 1), "target") };
}

/** A peer's messages go to the inbox only: typing into a session's terminal is its own owner's call. */
export function inboxOnly(delivery: string | undefined): void {
  if (delivery !== undefined && delivery !== "inbox") throw new UsageError("--delivery: a message to a peer's session goes to its inbox only", "its owner decides what is typed into their terminals; drop --delivery");
}
