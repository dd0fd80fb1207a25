import { z } from "zod";

export const EVENT_TYPES = [
  "session.created",
  "session.status",
  "session.output_summary",
  "session.input",
  "session.attached",
  "session.detached",
  "direct.message",
  "message.request",
  "message.reply",
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

/**
 * One event. `type` is kept a plain string on the wire so consumers skip event types they do
 * not know instead of failing on them.
 */
export const SessionEvent = z.object({
  seq: z.number().int(),
  type: z.string(),
  session_id: z.number().int(),
  session_name: z.string().optional(),
  tags: z.array(z.string()).optional(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type SessionEvent = z.infer<typeof SessionEvent>;
