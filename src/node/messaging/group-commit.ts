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
 */

export class GroupCommit {
  /** A flush is on its way to the disk, or about to begin. */
  private running = false;
  /** Callers whose commits the running flush may have missed: the next flush covers them. */
  private next: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly flush: () => Promise<void>) {}

  /** Resolves once everything committed before this call is on disk. */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (!this.running) this.start();
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

  private begin(): void {
    const batch = this.next;
    this.next = [];
    this.flush().then(
      () => this.done(batch, undefined),
      (e) => this.done(batch, e ?? new Error("flush failed")),
    );
  }

  private done(batch: { resolve: () => void; reject: (e: unknown) => void }[], error: unknown): void {
    this.running = false;
    for (const w of batch) error === undefined ? w.resolve() : w.reject(error);
    if (this.next.length) this.start();
    else for (const r of this.idle.splice(0)) r();
  }
}
