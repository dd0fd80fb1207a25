/**
 * Group commit: many messages, one trip to the disk.
 *
 * The store commits each message at once (readers see it at once), without waiting for the disk;
 * a sender hears "sent" only once a flush that began after its commit has finished. At most one
 * flush runs at a time, off the main thread; every commit made while it runs is covered by the
 * next one. With eight senders in flight, eight messages share one flush instead of paying one
 * each, and the node keeps serving requests while the disk works.
 *
 * A flush begins on setImmediate, not at once: after the requests the event loop has already
 * read in this turn, so they join it. A flush costs ~65 µs of CPU whatever it carries (mostly the
 * kernel's fdatasync, measured on this machine's disk): begun at once, the first of eight senders
 * had one of its own and the group commits held 1-3 messages.
 *
 * Regrouping (the `regroup` option): senders who loop (an agent's next tool call, a client's
 * next call()) come back moments after they heard back, but the next flush began as soon as the
 * last one ended, with only those who had arrived meanwhile. So eight senders split into two
 * halves that took turns at the disk: 4 messages a flush on average (1 and 7 under load, when
 * fdatasync took milliseconds), two flushes where one would do. With `regroup`, a flush asked
 * for within REGROUP_MS of the last one's end waits until as many callers are waiting as that
 * flush answered plus those who were already waiting (the number in flight, if they all come
 * back), or until REGROUP_MS after that end, whichever comes first. A lone sender is back alone,
 * so it never waits; a caller after a quiet spell neither.
 */

/**
 * How long after a flush the next one may wait for the callers it answered to come back. (Bun's
 * timers fire no sooner than ~1 ms, so a shorter bound would wait as long.) With 8 senders in
 * flight, 1-2% of the waits ran out (load 2-4); the others ended when all were back.
 */
export const REGROUP_MS = 1;

type Caller = { resolve: () => void; reject: (e: unknown) => void };

export class GroupCommit {
  /** A flush is on its way to the disk, or about to begin (or waiting to regroup). */
  private running = false;
  /** Callers whose commits the running flush may have missed: the next flush covers them. */
  private next: Caller[] = [];
  /** Callers the next flush waits for, and until when (performance.now()); see `regroup`. */
  private expected = 0;
  private expectedUntil = 0;
  /** Set while a flush waits for callers to come back. */
  private regroupTimer: ReturnType<typeof setTimeout> | undefined;

  /** @param regroup Wait briefly for the last flush's callers to come back (see above). */
  constructor(
    private readonly flush: () => Promise<void>,
    private readonly regroup = false,
  ) {}

  /** Resolves once everything committed before this call is on disk. */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (!this.running) this.start();
      else if (this.regroupTimer !== undefined && this.next.length >= this.expected) this.regrouped();
    });
  }

  /** Resolves once no flush runs and none is wanted: every caller so far has heard back. */
  async settled(): Promise<void> {
    while (this.running || this.next.length) await new Promise<void>((r) => this.idle.push(r));
  }

  private idle: (() => void)[] = [];

  private start(): void {
    this.running = true;
    setImmediate(() => this.begin());
  }

  /** Everyone expected is back, or the wait is over: the flush begins (a turn later, as always). */
  private regrouped(): void {
    clearTimeout(this.regroupTimer);
    this.regroupTimer = undefined;
    this.expected = 0;
    setImmediate(() => this.begin());
  }

  private begin(): void {
    const wait = this.expectedUntil - performance.now();
    if (this.next.length < this.expected && wait > 0) {
      this.regroupTimer = setTimeout(() => this.regrouped(), wait);
      return;
    }
    const batch = this.next;
    this.next = [];
    this.flush().then(
      () => this.done(batch, undefined),
      (e) => this.done(batch, e ?? new Error("flush failed")),
    );
  }

  private done(batch: Caller[], error: unknown): void {
    this.running = false;
    for (const w of batch) error === undefined ? w.resolve() : w.reject(error);
    if (this.regroup) {
      this.expected = batch.length + this.next.length;
      this.expectedUntil = performance.now() + REGROUP_MS;
    }
    if (this.next.length) this.start();
    else for (const r of this.idle.splice(0)) r();
  }
}
