import { z } from "zod";

import { AGENT_STATE_SOURCES, AGENT_STATES, SESSION_NAME_NOT_AN_ID, SESSION_NAME_RE, SESSION_NAME_RULE, SESSION_STATUSES } from "./constants";

export { describeStatus, SESSION_NAME_RE, sessionNameProblem } from "./constants";

/**
 * A name as it appears in a reference. All digits pass here: the node reads such a reference as
 * an id (agents send "3" as often as 3), as it always has.
 */
const NameInReference = z.string().regex(SESSION_NAME_RE, { message: SESSION_NAME_RULE });

/**
 * Session names: what people and agents use to address a session. A new name may not be all
 * digits, since a number addresses the session with that id (see sessionNameProblem).
 */
export const SessionName = NameInReference.regex(/\D/, { message: SESSION_NAME_NOT_AN_ID });
/** One rule, one message: whatever is wrong with a tag, the user reads what a tag may be. */
const TAG_RULE = "a tag is 1-64 characters without spaces or commas";
export const Tag = z.string().min(1, { message: TAG_RULE }).max(64, { message: TAG_RULE }).regex(/^[^\s,]+$/, { message: TAG_RULE });

export const SessionStatus = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatus>;
export const AgentState = z.enum(AGENT_STATES);
export type AgentState = z.infer<typeof AgentState>;

/** A session as every client sees it (list, status, MCP, events). */
export const SessionInfo = z.object({
  id: z.number().int(),
  name: z.string().optional(),
  /** The command line, shell-quoted for display. */
  prompt: z.string(),
  command: z.array(z.string()),
  working_dir: z.string(),
  tags: z.array(z.string()),
  status: SessionStatus,
  exit_code: z.number().int().nullable(),
  pid: z.number().int().nullable(),
  created_at: z.string(),
  completed_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  output_bytes: z.number(),
  last_output_at: z.string().nullable(),
  attached_count: z.number().int(),
  cols: z.number().int(),
  rows: z.number().int(),
  /** false: the program runs on pipes, not a terminal (cw launch --no-pty). Nodes before it sent none. */
  terminal: z.boolean().default(true),
  /**
   * A lost session whose program outlived the node that ran it: that program's pid while it
   * still runs (cw kill ends it, and it keeps its name); else null. Nodes before it sent none.
   */
  orphan_pid: z.number().int().nullable().default(null),
  /**
   * Processes the session started that still run after its program ended (daemons it left
   * behind, see cw kill); empty while the program runs. Nodes before it sent none.
   */
  survivors: z.array(z.number().int()).default([]),
  /**
   * What the agent in the session is doing (working, needs-input, idle), from its hooks or its
   * screen; none for a plain program or before any signal. Nodes before it sent none of these.
   */
  agent_state: AgentState.default("none"),
  /** When agent_state last changed. */
  agent_state_since: z.string().nullable().default(null),
  /** Which agent runs in the session, when known (claude, codex, gemini). */
  agent: z.string().nullable().default(null),
  /** What decided agent_state: the agent's hook or its screen; null while it is none. */
  agent_state_source: z.enum(AGENT_STATE_SOURCES).nullable().default(null),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** A reference to a session as users type it: an id or a name. */
export const SessionRef = z.union([
  z
    .number()
    .int({ message: "a session id is a whole number" })
    .positive({ message: "session ids start at 1" })
    .max(Number.MAX_SAFE_INTEGER, { message: "no session has an id that large" }),
  NameInReference,
]);
export type SessionRef = z.infer<typeof SessionRef>;

