import { z } from "zod";

import { SESSION_NAME_RE, SESSION_STATUSES } from "./constants";

export { describeStatus, SESSION_NAME_RE } from "./constants";

/** Session names: what people and agents use to address a session. */
export const SessionName = z.string().regex(SESSION_NAME_RE, {
  message: "a name is 1-32 characters: letters, digits and hyphens, starting with a letter or digit",
});
export const Tag = z.string().min(1).max(64).regex(/^[^\s,]+$/, { message: "a tag has no spaces or commas" });

export const SessionStatus = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatus>;

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
});
export type SessionInfo = z.infer<typeof SessionInfo>;

/** A reference to a session as users type it: an id or a name. */
export const SessionRef = z.union([z.number().int().positive(), SessionName]);
export type SessionRef = z.infer<typeof SessionRef>;

