/**
 * What travels inside an envelope (only the two nodes ever see it): pairing steps, messages,
 * requests and their replies, and bounces for what could not be delivered.
 */
import { z } from "zod";
import { Delivery, SessionRef, Tag } from "../../protocol";

/** The sending session as its node names it; null is the owner at a plain shell. */
const From = z.object({ id: z.number().int().nonnegative(), name: z.string().max(64).optional() }).nullable();
const Body = z.string().min(1).max(64 * 1024);

export const Payload = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("pair_request"), card: z.unknown() }),
  z.object({ kind: z.literal("pair_accept") }),
  z.object({ kind: z.literal("unpair") }),
  // delivery: honoured only from the owner's own nodes (inbound.ts).
  z.object({ kind: z.literal("msg"), to_session: SessionRef, from: From, body: Body, delivery: Delivery.optional() }),
  z.object({ kind: z.literal("request"), request_id: z.string().max(64), to_session: SessionRef, from: From, body: Body, timeout_s: z.number().positive().max(86_400) }),
  z.object({ kind: z.literal("reply"), request_id: z.string().max(64), outcome: z.enum(["replied", "timeout", "target_ended", "undeliverable"]), from: From, body: z.string().max(64 * 1024).optional(), reason: z.string().max(500).optional() }),
  z.object({ kind: z.literal("broadcast"), tags: z.array(Tag).max(32).optional(), from: From, body: Body }),
  z.object({ kind: z.literal("bounce"), ref: z.string().max(64), reason: z.string().max(500) }),
]);
export type Payload = z.infer<typeof Payload>;
