/**
 * Input fields the tools share, built on the protocol's schemas (the single source of truth
 * for what a session reference, a tag or a message body is) with words for the model.
 */
import { z } from "zod";
import { EventType, SessionRef, Tag } from "../protocol";

export const session = SessionRef.describe("The session: its numeric id (e.g. 3) or its name (e.g. \"planner\").");
export const tags = z.array(Tag).min(1).describe("Session tags; a session matches when it has any of them.");
export const sender = SessionRef.describe(
  "Who the message is from: a session id or name. Defaults to the session this MCP server runs inside (CW_SESSION_ID); outside any session the sender is the user.",
);
export const events = z.array(EventType).min(1).describe(`Only these event types: ${EventType.options.join(", ")}.`);
