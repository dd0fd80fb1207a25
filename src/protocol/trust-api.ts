/**
 * The relay's API for handles, cards and mail between peers (src/relay/routes/handles.ts and
 * mail.ts), shared by the relay and the node. A relay stores and forwards envelopes it cannot
 * open: it sees who writes to whom and when, never what.
 */
import { z } from "zod";
import { Address, AgentCard, Handle } from "./agent-card";

const Party = z.object({ handle: Address, fp: z.string().regex(/^[0-9a-f]{64}$/) });
const B64u = z.string().regex(/^[A-Za-z0-9_-]*$/);

/** A sealed, signed envelope (src/identity/seal.ts) as it travels. */
export const EnvelopeWire = z.object({
  v: z.literal(1),
  id: z.string().min(8).max(64),
  ts: z.number().int(),
  seq: z.number().int().positive(),
  from: Party,
  to: Party,
  epk: B64u.length(43),
  iv: B64u.length(16),
  ct: B64u.max(200_000),
  sig: B64u.length(86),
});
export type EnvelopeWire = z.infer<typeof EnvelopeWire>;

export const ClaimRequest = z.object({
  card: z.unknown(),
  claim: z.object({ handle: Handle, node: z.string(), ts: z.number().int(), signature: B64u }),
});
/** A node's own card (its handle a node address), which says it takes envelopes from its owner's other nodes. */
export const NodeCardRequest = z.object({
  card: z.unknown(),
  claim: z.object({ handle: Address, node: z.string(), ts: z.number().int(), signature: B64u }),
});
export const NodeCardResponse = z.object({ node: z.string(), card: AgentCard });
export const ClaimResponse = z.object({ handle: Handle, reclaimed: z.boolean() });
export const CardResponse = z.object({ card: AgentCard });

export const PostMailRequest = z.object({ envelope: EnvelopeWire });
/** queued: kept by this relay for another that is down, handed over when it is back (seq 0). */
export const PostMailResponse = z.object({ stored: z.literal(true), seq: z.number().int(), queued: z.boolean().optional() });
/** An envelope this node sent that a relay gave up on (its recipient's relay down until it expired, or refusing it later). */
export const MailNotice = z.object({ kind: z.literal("undeliverable"), envelope_id: z.string(), to: z.string(), reason: z.string() });
export type MailNotice = z.infer<typeof MailNotice>;
export const FetchMailResponse = z.object({
  mail: z.array(z.object({ seq: z.number().int(), envelope: z.unknown() })),
  /** Relays from before notices leave it out. */
  notices: z.array(z.object({ seq: z.number().int(), notice: z.unknown() })).optional(),
});
export const AckMailRequest = z.object({ seqs: z.array(z.number().int()).max(1000), notices: z.array(z.number().int()).max(1000).optional() });
export const AckMailResponse = z.object({ deleted: z.number().int() });

export const TrustError = z.object({ error: z.string(), message: z.string(), hint: z.string() });

/** How long a fetch waits for mail at most (below the relay's 10 s idle timeout). */
export const MAIL_WAIT_MAX_S = 8;
/** Envelopes a handle's mailbox holds while its node is away; then senders are refused. */
export const MAILBOX_MAX = 1000;

/**
 * The base URL of the relay that serves `host`'s handles: https, except on loopback (a relay
 * on this machine, as in tests and local meshes), which speaks plain http.
 */
export function relayBaseFor(host: string): string {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  const loopback = name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
  return `${loopback ? "http" : "https"}://${host}`;
}
