/**
 * Messaging between sessions and the user: persist first, then announce (events) and deliver
 * (inbox always; the session's terminal when asked), then report. Requests wait for a reply, a
 * timeout, or the end of the target session, whichever comes first.
 */
import { type Delivery, type Message, type Party, ProtocolError, type SessionRef } from "../../protocol";
import type { EventBus } from "../events";
import type { Screens } from "../screen/screens";
import type { Session } from "../session";
import type { Sessions } from "../sessions";
import type { MessageStore } from "./store";
import { typeIntoSession } from "./pty-delivery";

export type RequestOutcome = { outcome: "replied"; reply: Message } | { outcome: "timeout" } | { outcome: "target_ended" };

function party(s: Session): Party {
  return { id: s.id, ...(s.name ? { name: s.name } : {}) };
}

function label(p: Party | null): string {
  if (!p) return "user";
  return p.node ? `${p.node}:${p.name ?? p.id}` : (p.name ?? `session ${p.id}`);
}

/** A session of this node (not the user, not a session on another node). */
function localId(p: Party | null): number | undefined {
  return p && !p.node ? p.id : undefined;
}

export class Messaging {
  /** Requests someone is blocked on right now, by request id. */
  private waiters = new Map<string, { from: number | null; to: number; finish: (o: RequestOutcome) => void }>();

  constructor(
    readonly store: MessageStore,
    private readonly sessions: Sessions,
    private readonly events: EventBus,
    private readonly screens: Screens,
  ) {}

  /**
   * The sender: a session here when given (it must exist), a session on another node as that
   * node names it (it cannot be looked up here), else the user.
   */
  sender(from: SessionRef | undefined, remote?: Party): Party | null {
    if (from !== undefined && remote) throw new ProtocolError("bad_request", "a message has one sender: give from or from_remote, not both");
    if (remote) return { id: remote.id, ...(remote.name ? { name: remote.name } : {}), node: remote.node! };
    return from === undefined ? null : party(this.sessions.get(from));
  }

  private liveTarget(ref: SessionRef): Session {
    const s = this.sessions.get(ref);
    if (!s.running) throw new ProtocolError("not_running", `session ${s.id}${s.name ? ` (${s.name})` : ""} has ended (${s.record.status})`, "messages go to running sessions; `cw list --status running` shows them");
    return s;
  }

  private announce(source: Session, type: "direct.message" | "message.request" | "message.reply", m: Message) {
    this.events.emit(source.source, type, { message: m });
  }

  private async deliver(target: Session, m: Message, delivery: Delivery): Promise<boolean | undefined> {
    if (delivery === "inbox") return undefined;
    const text =
      m.kind === "request"
        ? // An agent reading this in its composer needs the id and both ways to answer: its
          // codewire_reply tool when cw's MCP server is configured, else the CLI.
          `[request ${m.id} from ${label(m.from)}; answer with the codewire_reply tool (request_id ${m.id}) or: cw reply ${m.id} "<answer>"] ${m.body}`
        : `[message from ${label(m.from)}] ${m.body}`;
    return typeIntoSession(target, this.screens, text);
  }

  async send(to: SessionRef, body: string, from: SessionRef | undefined, delivery: Delivery, remote?: Party): Promise<{ message: Message; typed?: boolean }> {
    const target = this.liveTarget(to);
    const m = this.store.insert({ id: this.store.newId("msg"), kind: "direct", from: this.sender(from, remote), to: party(target), body });
    this.announce(target, "direct.message", m);
    const [typed] = await Promise.all([this.deliver(target, m, delivery), this.store.durable()]);
    return { message: m, ...(typed !== undefined ? { typed } : {}) };
  }

  async broadcast(tags: string[] | undefined, body: string, from: SessionRef | undefined, delivery: Delivery, remote?: Party): Promise<Message[]> {
    const sender = this.sender(from, remote);
    const targets = (tags?.length ? this.sessions.byTags(tags) : this.sessions.all()).filter((s) => s.running && s.id !== localId(sender));
    const stored = this.store.insertMany(targets.map((t) => ({ id: this.store.newId("msg"), kind: "direct" as const, from: sender, to: party(t), body })));
    stored.forEach((m, i) => this.announce(targets[i]!, "direct.message", m));
    await Promise.all([...stored.map((m, i) => this.deliver(targets[i]!, m, delivery)), this.store.durable()]);
    return stored;
  }

  /** Stores and delivers a request; the promise settles on reply, timeout or the target ending. */
  async request(to: SessionRef, body: string, from: SessionRef | undefined, delivery: Delivery, timeoutS: number, remote?: Party): Promise<{ request: Message; result: Promise<RequestOutcome>; cancel: () => void }> {
    const target = this.liveTarget(to);
    const sender = this.sender(from, remote);
    const senderId = localId(sender);
    if (senderId === target.id) throw new ProtocolError("bad_request", "a session cannot send a request to itself");
    // Agents blocked on requests around a circle (A asks B, B asks A; or A→B→C→A) would wait
    // until their timeouts: refuse the request that closes the circle.
    const blocking = senderId !== undefined ? this.waitChainBackTo(target.id, senderId) : undefined;
    if (blocking) {
      const who = target.name ?? `session ${target.id}`;
      const via = blocking.chain > 1 ? `${who} is waiting (through ${blocking.chain - 1} other request${blocking.chain > 2 ? "s" : ""}) for your reply to ${blocking.id}` : `${who} is waiting for your reply to ${blocking.id}`;
      throw new ProtocolError("conflict", `${via}; a request back would deadlock`, `answer it first with codewire_reply or: cw reply ${blocking.id} "<answer>" — or use cw msg, which does not wait`);
    }
    const m = this.store.insert({ id: this.store.newId("req"), kind: "request", from: sender, to: party(target), body, status: "pending", expires_at: Date.now() + timeoutS * 1000 });
    // On its way to the disk at once, without holding up the round trip: the requester hears
    // no "sent", only the outcome, and a reply (durable before its sender hears so) may be quicker.
    this.store.durable().catch(() => {});
    let settle!: (o: RequestOutcome) => void;
    const result = new Promise<RequestOutcome>((resolve) => (settle = resolve));
    let done = false;
    let stopWatchingTarget = () => {};
    const finish = (o: RequestOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stopWatchingTarget();
      this.waiters.delete(m.id);
      if (o.outcome === "timeout") this.store.setStatus(m.id, "expired");
      if (o.outcome === "target_ended") this.store.setStatus(m.id, "failed");
      settle(o);
    };
    const timer = setTimeout(() => finish({ outcome: "timeout" }), timeoutS * 1000);
    this.waiters.set(m.id, { from: senderId ?? null, to: target.id, finish });
    stopWatchingTarget = target.onExit(() => finish({ outcome: "target_ended" }));
    this.announce(target, "message.request", m);
    void this.deliver(target, m, delivery);
    // A requester that goes away (Ctrl+C, a killed client) is no longer waiting: the request is
    // cancelled, and a late reply is refused as for an expired one rather than sent to nobody.
    const cancel = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stopWatchingTarget();
      this.waiters.delete(m.id);
      this.store.setStatus(m.id, "cancelled");
    };
    return { request: m, result, cancel };
  }

  /**
   * Follows "who is blocked waiting on whom" from `start`; when the chain reaches `sender`,
   * returns the request `sender` must answer to break it and how many requests the chain holds.
   */
  private waitChainBackTo(start: number, sender: number): { id: string; chain: number } | undefined {
    const seen = new Set<number>();
    let cur = start;
    for (let chain = 1; !seen.has(cur); chain++) {
      seen.add(cur);
      let next: [string, number] | undefined;
      for (const [id, w] of this.waiters) if (w.from === cur) next = [id, w.to];
      if (!next) return undefined;
      // The last hop's request is the one waiting on the sender: that is what it must answer.
      if (next[1] === sender) return { id: next[0], chain };
      cur = next[1];
    }
    return undefined;
  }

  /**
   * The requester hears the reply as soon as it is stored; the replier hears "sent" once it is on
   * disk. (A crash in between costs the stored reply, and the replier, told nothing, answers again.)
   */
  async reply(requestId: string, body: string, from: SessionRef | undefined): Promise<Message> {
    const req = this.store.get(requestId);
    if (!req || req.kind !== "request") throw new ProtocolError("not_found", `no request ${requestId}`, "request ids look like req_… and come from `cw inbox` or a message.request event");
    // The request's state, not how `cw reply` was called: an error (exit 1), not bad usage.
    if (req.status === "replied") throw new ProtocolError("conflict", `request ${requestId} was already answered`, "a request takes one reply; send more with cw msg");
    if (req.status === "failed") throw new ProtocolError("conflict", `request ${requestId} failed: its target ended`, "send a message instead");
    if (req.status === "cancelled") throw new ProtocolError("conflict", `request ${requestId} was cancelled: the requester stopped waiting before any reply`, "the requester stopped waiting; send a message instead");
    if (req.status === "expired" || (req.expires_at !== null && req.expires_at < Date.now())) {
      this.store.setStatus(requestId, "expired");
      throw new ProtocolError("timeout", `request ${requestId} expired before this reply`, "the requester stopped waiting; send a message instead");
    }
    const sender = this.sender(from) ?? req.to;
    const m = this.store.insert({ id: this.store.newId("msg"), kind: "reply", from: sender, to: req.from, body, request_id: requestId });
    this.store.setStatus(requestId, "replied");
    // A requester on another node is not a session here, whatever its id.
    const requesterId = localId(req.from);
    const requester = requesterId !== undefined ? this.sessions.find(requesterId) : undefined;
    const source = requester ?? (req.to ? this.sessions.find(req.to.id) : undefined);
    if (source) this.announce(source, "message.reply", m);
    this.waiters.get(requestId)?.finish({ outcome: "replied", reply: m });
    await this.store.durable();
    return m;
  }
}
