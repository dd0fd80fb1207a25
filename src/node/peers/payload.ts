/**
 * What travels inside an envelope (only the two nodes ever see it): pairing steps, messages,
 * requests and their replies, and bounces for what could not be delivered.
 */
import { z } from "zod";
import { Delivery, SessionRef, Tag } from "../../protocol";

/** The sending session as its node names it; null is the owner at a plain shell. */
const From = z.object({ id: z.number().int().nonnegative(), name: z.string().max(64).optional() }).nullable();
const Body = z.string().min(1).max(64 * 1024);
/** The sending session's signature and the node's certificate of its key (identity/session-proof.ts). */
const Proof = z
  .object({
    cert: z.object({ v: z.literal(1), issuer: z.string(), session: z.number().int().nonnegative(), name: z.string().max(64).optional(), ed25519: z.string(), fingerprint: z.string(), signature: z.string() }),
    sig: z.string().max(128),
  })
  .optional();

export const Payload = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("pair_request"), card: z.unknown() }),
  z.object({ kind: z.literal("pair_accept") }),
  z.object({ kind: z.literal("unpair") }),
  // delivery: honoured only from the owner's own nodes (inbound.ts).
  z.object({ kind: z.literal("msg"), to_session: SessionRef, from: From, body: Body, delivery: Delivery.optional(), proof: Proof }),
  z.object({ kind: z.literal("request"), request_id: z.string().max(64), to_session: SessionRef, from: From, body: Body, timeout_s: z.number().positive().max(86_400), proof: Proof }),
  z.object({ kind: z.literal("reply"), request_id: z.string().max(64), outcome: z.enum(["replied", "timeout", "target_ended", "undeliverable"]), from: From, body: z.string().max(64 * 1024).optional(), reason: z.string().max(500).optional(), proof: Proof }),
  z.object({ kind: z.literal("broadcast"), tags: z.array(Tag).max(32).optional(), from: From, body: Body, proof: Proof }),
  z.object({ kind: z.literal("bounce"), ref: z.string().max(64), reason: z.string().max(500) }),
]);
export type Payload = z.infer<typeof Payload>;

/** What a session's signature covers in a payload that names a sending session. */
export function signedPart(envelopeId: string, p: Payload): import("../../identity").SignedMessage | null {
  switch (p.kind) {
    case "msg":
      return { envelopeId, kind: p.kind, to: p.to_session, body: p.body };
    case "request":
      return { envelopeId, kind: p.kind, to: p.to_session, requestId: p.request_id, body: p.body };
    case "reply":
      return { envelopeId, kind: `reply:${p.outcome}`, requestId: p.request_id, body: p.body ?? null };
    case "broadcast":
      return { envelopeId, kind: p.kind, body: p.body };
    default:
      return null;
  }
}
