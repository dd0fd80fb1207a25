/**
 * Peers: other owners' nodes, known by handle and key. This node claims its handle, pairs (a
 * request one side sends and the other's owner accepts), and sends messages and requests to a
 * paired peer's sessions as envelopes signed with this node's key and sealed to the peer's, which
 * the relays carry without being able to read or forge them. What arrives is handled in
 * inbound.ts; the mailbox loop (mailbox.ts) fetches it.
 */
import { randomBytes } from "node:crypto";
import type { RelaySettings } from "../../config/relay";
import { type Envelope, type Identity, makeCard, proveSession, seal, type SessionSigner, sessionSigner, shortFingerprint, signClaim, type VerifiedCard, verifyCard } from "../../identity";
import { HANDLE_RE, nodeAddress } from "../../protocol/agent-card";
import { isOwnNode, ownNodeRow, senderNode } from "./own-nodes";
import { type Message, type PeerInfo, ProtocolError, type RequestOf, type SessionRef } from "../../protocol";
import type { Messaging } from "../messaging/service";
import type { Sessions } from "../sessions";
import { type Payload, signedPart } from "./payload";
import { RelayLink } from "./relay-link";
import type { PeerRow, PeerStore } from "./store";

export interface PeerDeps {
  messaging: Messaging;
  sessions: Sessions;
  log: (msg: string) => void;
  /** This machine's relay (relay.toml), read when needed: `cw setup` may change it. */
  relay: () => RelaySettings | undefined;
}

type ReplyOutcome = { outcome: "replied" | "timeout" | "target_ended" | "undeliverable"; body?: string; from: { id: number; name?: string } | null; reason?: string };

export function peerInfo(r: PeerRow): PeerInfo {
  const card = JSON.parse(r.card) as { capabilities?: { extensions?: { params?: { nickname?: string } }[] } };
  return {
    handle: r.handle,
    fingerprint: r.fp,
    short: shortFingerprint(r.fp),
    nickname: card.capabilities?.extensions?.[0]?.params?.nickname ?? "",
    state: r.state,
    since: r.updated_at,
    sent: r.sent,
    received: r.received,
    refused: { tampered: r.r_tampered, replayed: r.r_replayed, stale: r.r_stale, unpaired: r.r_unpaired },
    undelivered: r.undelivered ?? 0,
  };
}

export class PeerService {
  /** Requests sent to peers that a client is waiting on, by request id. */
  readonly waiting = new Map<string, { fp: string; done: (o: ReplyOutcome) => void }>();
  /** Wakes the mailbox loop (after a claim, or `cw setup`). */
  kick: () => void = () => {};
  /** Per peer (by fingerprint): the last send in line, so that envelopes leave in order. */
  private readonly outbox = new Map<string, Promise<void>>();

  /** Each session's key and certificate, by signing node key and session (deriving costs ~100 µs). */
  private readonly signers = new Map<string, SessionSigner>();
  /** This node's key among its owner's nodes (keys.ts ownNodes()). */
  readonly nodeKey: Identity;

  constructor(
    readonly me: Identity,
    readonly store: PeerStore,
    readonly deps: PeerDeps,
  ) {
    this.nodeKey = me.ownNodes();
  }

  /** Which of this node's keys an envelope is sealed to, or null. */
  keyFor(fp: string): Identity | null {
    return fp === this.me.fingerprint ? this.me : fp === this.nodeKey.fingerprint ? this.nodeKey : null;
  }

  link(): RelayLink {
    const s = this.deps.relay();
    if (!s) throw new ProtocolError("unavailable", "this node has no relay", "register it with one first: cw setup <relay-url>");
    return new RelayLink(s);
  }

  /** This node's handle on its current relay, or null. */
  handle(): string | null {
    const h = this.store.meta("handle");
    const s = this.deps.relay();
    return h && s && h.endsWith(`@${new URL(s.url).host.toLowerCase()}`) ? h : null;
  }

  /** This node's address among its owner's nodes on its relay: node:<name>@<relay host>. */
  nodeAddress(): string {
    const link = this.link();
    if (!link.settings.node) throw new ProtocolError("unavailable", "relay.toml names no node", "register again: cw setup <relay-url> --name <node>");
    return nodeAddress(link.settings.node, link.host);
  }

  private ownHandle(): string {
    const h = this.handle();
    if (!h) throw new ProtocolError("not_paired", "this node has no handle on its relay", "claim one first: cw id claim <name>");
    return h;
  }

  async claim(name: string): Promise<string> {
    const link = this.link();
    if (!link.settings.node) throw new ProtocolError("unavailable", "relay.toml names no node", "register again: cw setup <relay-url> --name <node>");
    const handle = `${name}@${link.host}`;
    const card = makeCard(this.me, { handle, mailbox: `${link.settings.url}/api/v1/mail`, url: link.settings.url });
    await link.claim(card, signClaim(this.me, handle, link.settings.node));
    this.store.setMeta("handle", handle);
    this.store.setMeta("card", JSON.stringify(card));
    this.deps.log(`peer: claimed ${handle}`);
    this.kick();
    return handle;
  }

  /** A handle's card from its relay, checked: well formed, signed by its own key, for that handle. */
  async resolve(handle: string): Promise<VerifiedCard> {
    const [, name, host] = HANDLE_RE.exec(handle) ?? [];
    if (!name || !host) throw new ProtocolError("bad_request", `${JSON.stringify(handle)} is not a handle`, "a handle is name@relay-host");
    const v = verifyCard(await this.link().card(name, host));
    if ("error" in v) throw new ProtocolError("relay_refused", `the card of ${handle} is not trustworthy: ${v.error}`, "its relay may have changed it; ask its owner to claim the handle again");
    if (v.identity.handle !== handle) throw new ProtocolError("relay_refused", `the relay answered for ${handle} with the card of ${v.identity.handle}`, "the relay is misbehaving; do not pair through it");
    return v;
  }

  private row(handle: string, states: PeerRow["state"][], what: string): PeerRow {
    const r = this.store.byHandle(handle);
    if (!r || !states.includes(r.state)) throw new ProtocolError("not_found", `${what} ${handle}`, "cw peer list shows peers and pending requests");
    return r;
  }

  async add(handle: string): Promise<{ peer: PeerInfo; action: "requested" | "paired" | "already" }> {
    const own = this.ownHandle();
    if (handle === own) throw new ProtocolError("bad_request", `${handle} is this node`, "pair with someone else's handle");
    const known = this.store.byHandle(handle);
    if (known?.state === "paired") return { peer: peerInfo(known), action: "already" };
    if (known?.state === "pending_in") return { peer: await this.accept(handle), action: "paired" };
    const v = await this.resolve(handle);
    const row = this.store.upsert(v.keys.fingerprint, handle, JSON.stringify(v.card), "pending_out");
    await this.send(row, { kind: "pair_request", card: JSON.parse(this.store.meta("card")!) });
    this.deps.log(`peer: asked ${handle} (${shortFingerprint(row.fp)}) to pair`);
    return { peer: peerInfo(this.store.get(row.fp)!), action: "requested" };
  }

  /** The owner's decision: only a command (or the person at it), never an MCP tool, calls this. */
  async accept(handle: string): Promise<PeerInfo> {
    const row = this.row(handle, ["pending_in"], "no pair request from");
    // Told first: if the relay cannot take the answer, the request stays pending, to accept again.
    await this.send(row, { kind: "pair_accept" });
    this.store.setState(row.fp, "paired");
    this.deps.log(`peer: paired with ${handle} (${shortFingerprint(row.fp)})`);
    return peerInfo(this.store.get(row.fp)!);
  }

  reject(handle: string): PeerInfo {
    const row = this.row(handle, ["pending_in"], "no pair request from");
    this.store.setState(row.fp, "rejected");
    this.deps.log(`peer: rejected ${handle} (${shortFingerprint(row.fp)}); it cannot ask again`);
    return peerInfo(this.store.get(row.fp)!);
  }

  /** Stops delivery both ways at once: nothing is sent to it or taken from it, and it is told. */
  async remove(handle: string): Promise<PeerInfo> {
    const row = this.row(handle, ["paired", "pending_out", "pending_in", "rejected"], "no peer");
    this.store.setState(row.fp, "removed");
    // One of the owner's nodes: only the pin is forgotten (its next card is pinned anew).
    if (!isOwnNode(row) && (row.state === "paired" || row.state === "pending_out")) {
      await this.send(row, { kind: "unpair" }).catch((e) => this.deps.log(`peer: could not tell ${handle} it was removed: ${(e as Error).message}`));
    }
    this.deps.log(`peer: removed ${handle}`);
    return peerInfo(this.store.get(row.fp)!);
  }

  /**
   * Seals `payload` to the peer and hands it to the relay; returns the envelope once stored there.
   * One peer's envelopes leave one at a time, in the order of their numbers: the recipient refuses
   * a number lower than one it accepted (a replay), so two sends racing to the relay lost the
   * slower one (6 of 80 sent at once, each sender told "sent").
   */
  send(row: PeerRow, payload: Payload): Promise<Envelope> {
    const prev = this.outbox.get(row.fp) ?? Promise.resolve();
    const next = prev.then(
      () => this.sendNow(row, payload),
      () => this.sendNow(row, payload),
    );
    const settled = next.then(
      () => {},
      () => {},
    );
    this.outbox.set(row.fp, settled);
    void settled.then(() => {
      if (this.outbox.get(row.fp) === settled) this.outbox.delete(row.fp);
    });
    return next;
  }

  private async sendNow(row: PeerRow, payload: Payload): Promise<Envelope> {
    const v = verifyCard(JSON.parse(row.card));
    if ("error" in v) throw new ProtocolError("internal", `the stored card of ${row.handle} no longer verifies: ${v.error}`);
    const own = isOwnNode(row);
    const key = own ? this.nodeKey : this.me;
    const id = `env_${randomBytes(12).toString("hex")}`;
    const env = seal(key, own ? this.nodeAddress() : this.ownHandle(), { handle: row.handle, fp: row.fp, x25519: v.keys.x25519 }, this.signed(key, id, payload), { id, seq: this.store.nextSeq(row.fp) });
    const r = await this.link().post(env, own);
    // The relay answers: a mail loop waiting out its backoff after an outage may ask it now.
    this.kick();
    if (r.queued) this.deps.log(`peer: ${row.handle}'s relay cannot be reached; this relay keeps envelope ${env.id} and hands it over when it can`);
    this.store.countSent(row.fp);
    return env;
  }

  /** A peer by handle, or one of the owner's nodes (`node:<name>`), pinned on first use. */
  private async target(to: string): Promise<PeerRow> {
    const node = /^node:([^@]+)$/.exec(to)?.[1];
    return node ? ownNodeRow(this, node) : this.paired(to);
  }

  /** The payload with its sending session's signature, when it names one (session-proof.ts). */
  private signed(key: Identity, envelopeId: string, payload: Payload): Payload {
    const from = "from" in payload ? payload.from : null;
    const part = signedPart(envelopeId, payload);
    if (!from || !part) return payload;
    const k = `${key.fingerprint}/${from.id}/${from.name ?? ""}`;
    let signer = this.signers.get(k);
    if (!signer) this.signers.set(k, (signer = sessionSigner(key, from.id, from.name)));
    return { ...payload, proof: proveSession(signer, part) } as Payload;
  }

  private paired(handle: string): PeerRow {
    const r = this.store.byHandle(handle);
    if (r?.state !== "paired") throw new ProtocolError("not_paired", `${handle} is not a paired peer${r ? ` (${r.state.replace("_", " ")})` : ""}`, `pair first: cw peer add ${handle} (its owner accepts with cw peer accept)`);
    return r;
  }

  private sender(from: SessionRef | undefined): { id: number; name?: string } | null {
    if (from === undefined) return null;
    const s = this.deps.sessions.get(from);
    return { id: s.id, ...(s.name ? { name: s.name } : {}) };
  }

  private toParty(row: PeerRow, session: SessionRef) {
    const node = senderNode(row);
    return typeof session === "number" ? { id: session, node } : { id: 0, name: session, node };
  }

  async message(req: RequestOf<"PeerMsg">): Promise<Message> {
    const row = await this.target(req.to);
    const from = this.sender(req.from);
    // Typing into a terminal is for the owner's own nodes only; a peer's sessions get the inbox.
    const delivery = isOwnNode(row) && req.delivery && req.delivery !== "inbox" ? { delivery: req.delivery } : {};
    const env = await this.send(row, { kind: "msg", to_session: req.session, from, body: req.body, ...delivery });
    return { id: env.id, kind: "direct", from: from, to: this.toParty(row, req.session), body: req.body, created_at: new Date(env.ts).toISOString(), read: false };
  }

  /** Sends a request; the promise settles with the peer's reply, its refusal or the timeout. */
  async request(req: RequestOf<"PeerMsg">): Promise<{ request: Message; result: Promise<ReplyOutcome>; cancel: () => void }> {
    const row = await this.target(req.to);
    const from = this.sender(req.from);
    const id = `req_${randomBytes(6).toString("hex")}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = new Promise<ReplyOutcome>((resolve) => {
      const done = (o: ReplyOutcome) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(o);
      };
      this.waiting.set(id, { fp: row.fp, done });
      timer = setTimeout(() => done({ outcome: "timeout", from: null }), req.timeout_s * 1000);
    });
    try {
      const env = await this.send(row, { kind: "request", request_id: id, to_session: req.session, from, body: req.body, timeout_s: req.timeout_s });
      const request: Message = { id, kind: "request", from, to: this.toParty(row, req.session), body: req.body, created_at: new Date(env.ts).toISOString(), read: false, status: "pending" };
      return { request, result, cancel: () => this.waiting.get(id)?.done({ outcome: "timeout", from: null }) };
    } catch (e) {
      clearTimeout(timer);
      this.waiting.delete(id);
      throw e;
    }
  }

  /** To every paired peer at once; one that cannot be reached does not stop the others. */
  async broadcast(req: RequestOf<"PeerBroadcast">): Promise<{ sent: string[]; failed: { handle: string; error: string }[] }> {
    const from = this.sender(req.from);
    const rows = this.store.all().filter((r) => r.state === "paired" && !isOwnNode(r));
    if (!rows.length) throw new ProtocolError("not_paired", "this node has no paired peers", "pair first: cw peer add <name@relay-host>");
    const results = await Promise.allSettled(rows.map((r) => this.send(r, { kind: "broadcast", ...(req.tags?.length ? { tags: req.tags } : {}), from, body: req.body })));
    const sent: string[] = [];
    const failed: { handle: string; error: string }[] = [];
    results.forEach((r, i) => (r.status === "fulfilled" ? sent.push(rows[i]!.handle) : failed.push({ handle: rows[i]!.handle, error: (r.reason as Error).message })));
    return { sent, failed };
  }

  list(pendingOnly: boolean): { peers: PeerInfo[]; refused_strangers: number } {
    const rows = this.store.all().filter((r) => !pendingOnly || r.state === "pending_in");
    return { peers: rows.map(peerInfo), refused_strangers: Number(this.store.meta("refused_strangers") ?? 0) };
  }
}
