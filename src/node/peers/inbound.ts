/**
 * An envelope that came from the relay, judged before anything is delivered: sealed to this
 * node, signed by a key this node knows (or a pair request whose card and handle check out),
 * not seen before, not older than allowed, numbered after the last one from that peer, and from
 * a paired peer unless it is a pairing step. Anything else is refused, logged and counted (per
 * peer, or as a stranger's); the relay's copy is taken either way.
 */
import { checkFresh, checkOrder, type Envelope, EnvelopeError, open, sessionProofError, shortFingerprint, signedBy, verifyCard } from "../../identity";
import { EnvelopeWire } from "../../protocol/trust-api";
import { ProtocolError } from "../../protocol";
import { Payload, signedPart } from "./payload";
import type { PeerService } from "./service";
import type { PeerRow } from "./store";
import { isOwnNode, pinSender, senderNode } from "./own-nodes";
import { NODE_ADDRESS_RE } from "../../protocol/agent-card";

/** Pending requests from strangers kept at once; more are refused until the owner decides. */
const MAX_PENDING_IN = 32;

export async function receive(svc: PeerService, raw: unknown): Promise<void> {
  const wire = EnvelopeWire.safeParse(raw);
  if (!wire.success) return refuse(svc, null, "unknown", new EnvelopeError("tampered", "not an envelope"));
  const env = wire.data as Envelope;
  let known = svc.store.get(env.from.fp);
  try {
    if (!svc.keyFor(env.to.fp)) throw new EnvelopeError("tampered", "sealed to another key");
    // One of the owner's nodes: no pairing, its key pinned the first time (own-nodes.ts).
    if (NODE_ADDRESS_RE.test(env.from.handle) && known?.state !== "paired") known = await pinSender(svc, env);
    if (known && (known.state === "paired" || known.state === "pending_out")) return await fromKnown(svc, known, env);
    return await fromStranger(svc, known, env);
  } catch (e) {
    // Counted against the key it names, signed or not: a forgery in a peer's name shows there.
    if (e instanceof EnvelopeError) return refuse(svc, known?.fp ?? null, env.from.handle, e, env.id);
    svc.deps.log(`peer: envelope ${env.id} from ${env.from.handle}: ${(e as Error).message}`);
  }
}

function keysOf(row: PeerRow) {
  const v = verifyCard(JSON.parse(row.card));
  if ("error" in v) throw new EnvelopeError("tampered", `stored card: ${v.error}`);
  return v.keys;
}

function refuse(svc: PeerService, fp: string | null, who: string, e: EnvelopeError, id?: string): void {
  const reason = e.reason === "misaddressed" ? "tampered" : e.reason;
  svc.store.refused(fp, reason);
  svc.deps.log(`peer: refused envelope ${id ?? "?"} from ${who}${fp ? ` (${shortFingerprint(fp)})` : " (not a peer)"}: ${reason}: ${e.message}`);
}

function payloadOf(svc: PeerService, env: Envelope): Payload {
  const p = Payload.safeParse(open(env, svc.keyFor(env.to.fp) ?? svc.me));
  if (!p.success) throw new EnvelopeError("tampered", "the payload is not one this node understands");
  return p.data;
}

/** Only a pair request may come from a key that is not (or no longer) a peer. */
async function fromStranger(svc: PeerService, known: PeerRow | null, env: Envelope): Promise<void> {
  const p = payloadOf(svc, env);
  if (p.kind !== "pair_request") throw new EnvelopeError("unpaired", `a ${p.kind} from a key that is not paired`);
  const card = verifyCard(p.card);
  if ("error" in card) throw new EnvelopeError("tampered", `its card: ${card.error}`);
  if (card.keys.fingerprint !== env.from.fp || card.identity.handle !== env.from.handle || !signedBy(env, card.keys.ed25519)) throw new EnvelopeError("tampered", "not signed by the key of the card it carries");
  // Repeats are refused before anything costs more than a signature check.
  if (known?.state === "rejected") throw new EnvelopeError("unpaired", "its pair request was rejected before");
  if (known?.state === "pending_in") throw new EnvelopeError("unpaired", "it asked again; its request is already pending (one per key)");
  if (svc.store.count("pending_in") >= MAX_PENDING_IN) throw new EnvelopeError("unpaired", `${MAX_PENDING_IN} pair requests are already waiting for the owner`);
  checkFresh(env, svc.store);
  // The card is self-signed: anyone can make one for any handle. The handle's relay says whose it is.
  const published = await svc.resolve(env.from.handle);
  if (published.keys.fingerprint !== env.from.fp) throw new EnvelopeError("tampered", `${env.from.handle} is held by another key on its relay`);
  svc.store.upsert(env.from.fp, env.from.handle, JSON.stringify(card.card), "pending_in");
  svc.store.accepted(env.from.fp, env.seq);
  svc.deps.log(`peer: ${env.from.handle} (${shortFingerprint(env.from.fp)}, ${card.identity.nickname}) asks to pair: cw peer accept ${env.from.handle}`);
}

async function fromKnown(svc: PeerService, row: PeerRow, env: Envelope): Promise<void> {
  if (!signedBy(env, keysOf(row).ed25519)) throw new EnvelopeError("tampered", "the signature does not verify");
  // A key speaks under one name: a peer cannot pass for one of the owner's nodes, nor the reverse.
  if (env.from.handle !== row.handle) throw new EnvelopeError("tampered", `signed by the key of ${row.handle}, but from ${env.from.handle}`);
  if (env.to.fp !== (isOwnNode(row) ? svc.nodeKey : svc.me).fingerprint) throw new EnvelopeError("tampered", "sealed to this node's other key");
  const p = payloadOf(svc, env);
  checkFresh(env, svc.store);
  checkOrder(env.seq, row.seq_in);
  if (row.state === "pending_out") {
    // Their answer to our request, or their own request crossing ours: paired either way.
    if (p.kind !== "pair_accept" && p.kind !== "pair_request") throw new EnvelopeError("unpaired", `a ${p.kind} before pairing completed`);
    svc.store.accepted(row.fp, env.seq);
    svc.store.setState(row.fp, "paired");
    if (p.kind === "pair_request") await svc.send(row, { kind: "pair_accept" });
    svc.deps.log(`peer: paired with ${row.handle} (${shortFingerprint(row.fp)})`);
    return;
  }
  // A message that names its sending session carries that session's signature, under a
  // certificate from the node's key pinned here: the inbox shows a sender the chain proves.
  const part = signedPart(env.id, p);
  const from = "from" in p ? p.from : null;
  if (part && from) {
    const why = sessionProofError("proof" in p ? p.proof : undefined, keysOf(row).ed25519, from, part);
    if (why) throw new EnvelopeError("tampered", why);
  }
  svc.store.accepted(row.fp, env.seq);
  await deliver(svc, row, env, p);
}

async function deliver(svc: PeerService, row: PeerRow, env: Envelope, p: Payload): Promise<void> {
  const { messaging } = svc.deps;
  const party = (from: { id: number; name?: string } | null) => ({ id: from?.id ?? 0, ...(from?.name ? { name: from.name } : {}), node: senderNode(row) });
  switch (p.kind) {
    case "pair_request":
    case "pair_accept":
      return; // already paired: a repeat changes nothing
    case "unpair":
      svc.store.setState(row.fp, "removed");
      svc.deps.log(`peer: ${row.handle} removed this node; nothing more goes to it or comes from it`);
      return;
    case "msg":
      try {
        await messaging.send(p.to_session, p.body, undefined, isOwnNode(row) ? (p.delivery ?? "inbox") : "inbox", party(p.from));
      } catch (e) {
        const why = e instanceof ProtocolError ? e.message : String(e);
        svc.deps.log(`peer: message ${env.id} from ${row.handle} not delivered: ${why}`);
        await svc.send(row, { kind: "bounce", ref: env.id, reason: why }).catch(() => {});
      }
      return;
    case "broadcast":
      await messaging.broadcast(p.tags, p.body, undefined, "inbox", party(p.from));
      return;
    case "request": {
      let started: Awaited<ReturnType<typeof messaging.request>>;
      try {
        started = await messaging.request(p.to_session, p.body, undefined, "inbox", p.timeout_s, party(p.from));
      } catch (e) {
        const why = e instanceof ProtocolError ? e.message : String(e);
        await svc.send(row, { kind: "reply", request_id: p.request_id, outcome: "undeliverable", from: null, reason: why }).catch(() => {});
        return;
      }
      // Answered later, when the session replies (cw reply) or the request ends.
      void started.result.then((o) => {
        const current = svc.store.get(row.fp);
        if (current?.state !== "paired") return;
        const from = o.outcome === "replied" && o.reply.from ? { id: o.reply.from.id, ...(o.reply.from.name ? { name: o.reply.from.name } : {}) } : null;
        return svc
          .send(current, { kind: "reply", request_id: p.request_id, outcome: o.outcome, from, ...(o.outcome === "replied" ? { body: o.reply.body } : {}) })
          .catch((e) => svc.deps.log(`peer: the reply to ${row.handle}'s ${p.request_id} was not sent: ${(e as Error).message}`));
      });
      return;
    }
    case "reply": {
      const w = svc.waiting.get(p.request_id);
      if (!w || w.fp !== row.fp) return void svc.deps.log(`peer: a reply from ${row.handle} to ${p.request_id}, which nobody waits for`);
      w.done({ outcome: p.outcome, from: p.from, ...(p.body !== undefined ? { body: p.body } : {}), ...(p.reason ? { reason: p.reason } : {}) });
      return;
    }
    case "bounce":
      svc.deps.log(`peer: ${row.handle} could not deliver ${p.ref}: ${p.reason}`);
      return;
  }
}
