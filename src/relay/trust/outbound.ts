/**
 * Envelopes for another relay that is down: kept in the trust store and handed over when it is
 * back. Each host's envelopes leave one at a time in the order they came (a later one must not
 * overtake: its recipient would refuse the earlier as replayed), tried again with exponential
 * backoff and jitter (so many relays do not come back at a recovering one in step). One the other
 * relay refuses outright, or that is still waiting after KEEP (24 h by default), is dropped, and
 * its sender's node gets a notice with the next mail it takes (`cw peer list`: undelivered).
 *
 * CW_FEDERATION_RETRY_MS (first wait, 1000), CW_FEDERATION_RETRY_MAX_MS (longest, 300000) and
 * CW_FEDERATION_KEEP_S (86400) set them.
 */
import type { EnvelopeWire } from "../../protocol/trust-api";
import { ForwardError, forward } from "./federation";
import type { OutboundRow, RelayTrust } from "../store/trust";

/** How long a replica's turn at a head lasts (a forward times out after 10 s; a replica that dies mid-turn is taken over after this). */
const LEASE_MS = 30_000;

export interface QueueTiming {
  retryMs: number;
  retryMaxMs: number;
  keepMs: number;
}

export function timingFromEnv(env: Record<string, string | undefined> = process.env): QueueTiming {
  const num = (v: string | undefined, d: number) => (v !== undefined && Number(v) > 0 ? Number(v) : d);
  return { retryMs: num(env.CW_FEDERATION_RETRY_MS, 1000), retryMaxMs: num(env.CW_FEDERATION_RETRY_MAX_MS, 300_000), keepMs: num(env.CW_FEDERATION_KEEP_S, 86_400) * 1000 };
}

/** The wait before attempt `attempts + 1`: doubling from retryMs up to retryMaxMs, the second half of it random. */
export function backoff(attempts: number, t: QueueTiming, random = Math.random): number {
  const full = Math.min(t.retryMaxMs, t.retryMs * 2 ** Math.min(attempts, 30));
  return Math.round(full / 2 + (random() * full) / 2);
}

export interface Notice {
  kind: "undeliverable";
  envelope_id: string;
  to: string;
  reason: string;
}

export class FederationQueue {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  /** Something was queued while a run was under way: run again when it ends. */
  private again = false;
  private stopped = false;
  /** Wakes the mail fetch of the node that holds handle `name` (set by the mail routes). */
  onNotice: (name: string) => void = () => {};

  constructor(
    private readonly store: RelayTrust,
    private readonly timing: QueueTiming,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /**
   * Forwards now when nothing for that host waits; else (or when the host cannot be reached)
   * queues it. Returns whether it was queued; throws the other relay's refusal.
   */
  async send(envelope: EnvelopeWire, host: string, sender: string): Promise<{ queued: boolean }> {
    if (!(await this.store.hasOutbound(host))) {
      try {
        await forward(envelope, host);
        return { queued: false };
      } catch (e) {
        if (!(e instanceof ForwardError) || !e.retry) throw e;
        this.log(`federation: ${host}: ${e.message}; keeping envelope ${envelope.id} to try again`);
      }
    }
    await this.store.queueOutbound(host, sender, JSON.stringify(envelope));
    this.schedule(0);
    return { queued: true };
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), Math.max(0, ms));
    this.timer.unref?.();
  }

  /** Works through every host whose turn has come, then sleeps until the next one's. */
  private async run(): Promise<void> {
    this.running = true;
    let next = Infinity;
    try {
      for (;;) {
        const heads = await this.store.outboundHeads();
        if (!heads.length) break;
        const now = Date.now();
        // An expired head is dropped at its turn (attempt()), at most retryMaxMs after its time.
        const due = heads.filter((h) => h.next_at <= now);
        next = Math.min(...heads.filter((h) => !due.includes(h)).map((h) => h.next_at), Infinity);
        if (!due.length) break;
        await Promise.all(due.map((h) => this.attempt(h)));
      }
    } catch (e) {
      this.log(`federation: the outbound queue failed: ${(e as Error).message}`);
      next = Date.now() + this.timing.retryMs;
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      next = Date.now();
    }
    if (next !== Infinity) this.schedule(next - Date.now());
  }

  private async attempt(row: OutboundRow): Promise<void> {
    // Replicas share the queue: whoever moves the head's time first has its turn, for LEASE_MS.
    if (!(await this.store.claimOutbound(row.seq, row.next_at, Date.now() + LEASE_MS))) return;
    const envelope = JSON.parse(row.envelope) as EnvelopeWire;
    if (row.created_at + this.timing.keepMs <= Date.now()) {
      return this.giveUp(row, envelope, `${row.host} could not be reached for ${Math.round(this.timing.keepMs / 1000)} s (last: ${row.last_error ?? "no answer"})`);
    }
    try {
      await forward(envelope, row.host);
      await this.store.dropOutbound(row.seq);
      if (row.attempts > 0) this.log(`federation: ${row.host} took envelope ${envelope.id} after ${row.attempts + 1} attempts`);
    } catch (e) {
      if (e instanceof ForwardError && !e.retry) return this.giveUp(row, envelope, e.message);
      const wait = backoff(row.attempts, this.timing);
      await this.store.deferOutbound(row.seq, Date.now() + wait, (e as Error).message);
    }
  }

  private async giveUp(row: OutboundRow, envelope: EnvelopeWire, reason: string): Promise<void> {
    await this.store.dropOutbound(row.seq);
    const notice: Notice = { kind: "undeliverable", envelope_id: envelope.id, to: envelope.to.handle, reason };
    await this.store.putNotice(row.sender, JSON.stringify(notice));
    this.onNotice(row.sender);
    this.log(`federation: gave up on envelope ${envelope.id} from ${envelope.from.handle} to ${envelope.to.handle}: ${reason}`);
  }
}
