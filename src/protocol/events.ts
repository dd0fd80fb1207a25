import { z } from "zod";

import { EVENT_TYPES } from "./constants";

export { EVENT_TYPES } from "./constants";
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
