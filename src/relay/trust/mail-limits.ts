/**
 * How fast mail may arrive at a relay: token buckets per recipient mailbox (a handle, or a node's
 * own mailbox) and per sender (its key's fingerprint), so one sender cannot flood an inbox and a
 * crowd of senders cannot flood one either. Refusals are 429 with Retry-After and a hint; the
 * sender's node (or relay, for federated mail) tries again later. Buckets live in this process:
 * replicas each keep their own, so a set of N replicas lets up to N times through.
 *
 * Defaults (per second, burst): per recipient 200/s, 1000; per sender 100/s, 500: far above what
 * agents send (the peer bench's 80 at once pass), far below what fills a mailbox in a second.
 * CW_MAIL_RATE_RECIPIENT and CW_MAIL_RATE_SENDER set them as "<per second>/<burst>".
 */
import { TrustApiError } from "./respond";

/** A 429 that says when to come back (the Retry-After header, set by respond.ts answer()). */
export class RateLimited extends TrustApiError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(429, "rate_limited", message, `slow down: try again in ${retryAfterS} s (the relay limits mail per sender and per mailbox)`);
  }
}

export interface Rate {
  perSecond: number;
  burst: number;
}

export function parseRate(text: string | undefined, fallback: Rate): Rate {
  const m = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(text?.trim() ?? "");
  if (!m) return fallback;
  const perSecond = Number(m[1]);
  const burst = Number(m[2]);
  return perSecond > 0 && burst >= 1 ? { perSecond, burst } : fallback;
}

/** Buckets by key; an idle bucket refills to full and is dropped, so the map stays small. */
export class Buckets {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly rate: Rate,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for `key`; when there is none, the seconds until there is one. */
  take(key: string): { ok: true } | { ok: false; retryAfterS: number } {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.rate.burst, at: t };
    b.tokens = Math.min(this.rate.burst, b.tokens + ((t - b.at) / 1000) * this.rate.perSecond);
    b.at = t;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.rate.perSecond)) };
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.sweep(t);
    return { ok: true };
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((t - b.at) / 1000) * this.rate.perSecond >= this.rate.burst) this.buckets.delete(k);
  }
}

export class MailLimits {
  readonly recipient: Buckets;
  readonly sender: Buckets;
  constructor(env: Record<string, string | undefined> = process.env, now?: () => number) {
    this.recipient = new Buckets(parseRate(env.CW_MAIL_RATE_RECIPIENT, { perSecond: 200, burst: 1000 }), now);
    this.sender = new Buckets(parseRate(env.CW_MAIL_RATE_SENDER, { perSecond: 100, burst: 500 }), now);
  }

  /** Throws a 429 unless both the sender and the recipient may have one more envelope now. */
  check(recipient: string, senderFp: string, senderName: string): void {
    const s = this.sender.take(senderFp);
    if (!s.ok) throw new RateLimited(`${senderName} is sending faster than this relay takes from one sender (${this.sender.rate.perSecond} envelopes a second, ${this.sender.rate.burst} at once)`, s.retryAfterS);
    const r = this.recipient.take(recipient);
    if (!r.ok) throw new RateLimited(`${recipient} is getting mail faster than this relay takes for one mailbox (${this.recipient.rate.perSecond} envelopes a second, ${this.recipient.rate.burst} at once)`, r.retryAfterS);
  }
}
