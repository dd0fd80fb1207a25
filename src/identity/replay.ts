/**
 * Replay protection for envelopes: each id is accepted once, and only while its timestamp is
 * within a window of this node's clock: up to MAX_AGE_MS old (a relay keeps an envelope while
 * its recipient is offline, so the past is generous) and at most MAX_SKEW_MS ahead. Ids are
 * remembered for as long as the window, after which the timestamp alone refuses them. The store
 * is the node's database (ids survive a restart) or memory in tests.
 */
import { EnvelopeError, type EnvelopeHeader } from "./seal";

/** How old an envelope may be when it arrives (as long as a relay keeps one). */
export const MAX_AGE_MS = 7 * 24 * 3600_000;
/** How far ahead of ours a sender's clock may be. */
export const MAX_SKEW_MS = 10 * 60_000;

export interface SeenStore {
  /** Records `id`; false when it was already there. */
  remember(id: string, ts: number): boolean;
  /** Forgets ids with timestamps before `ts`. */
  forgetBefore(ts: number): void;
}

export class MemorySeen implements SeenStore {
  private ids = new Map<string, number>();
  remember(id: string, ts: number): boolean {
    if (this.ids.has(id)) return false;
    this.ids.set(id, ts);
    return true;
  }
  forgetBefore(ts: number): void {
    for (const [id, t] of this.ids) if (t < ts) this.ids.delete(id);
  }
}

/** Throws EnvelopeError (stale or replayed), or records the envelope as seen. */
export function checkFresh(e: Pick<EnvelopeHeader, "id" | "ts">, seen: SeenStore, now = Date.now(), maxAgeMs = MAX_AGE_MS): void {
  if (!Number.isSafeInteger(e.ts) || e.ts > now + MAX_SKEW_MS) throw new EnvelopeError("stale", "the envelope is dated in the future (more than 10 minutes ahead of this node's clock)");
  if (e.ts < now - maxAgeMs) throw new EnvelopeError("stale", `the envelope is older than ${Math.round(maxAgeMs / 3600_000)} hours`);
  seen.forgetBefore(now - maxAgeMs);
  if (!seen.remember(e.id, e.ts)) throw new EnvelopeError("replayed", `envelope ${e.id} was already received`);
}

/** Throws unless `seq` is past the last one accepted from this sender. */
export function checkOrder(seq: number, lastAccepted: number): void {
  if (!Number.isSafeInteger(seq) || seq <= lastAccepted) throw new EnvelopeError("replayed", `envelope number ${seq} comes after ${lastAccepted} was accepted: replayed or reordered`);
}
