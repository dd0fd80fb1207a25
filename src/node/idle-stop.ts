/**
 * Stops something once it has had nothing to do for a while: the node's helper threads (the
 * screen worker, the lane thread), each a JavaScript VM of its own that a node would otherwise
 * keep for its whole life after one use.
 */
export class IdleStop {
  private timer?: ReturnType<typeof setTimeout>;

  /** `idle` is asked now and again when the time is up; `stop` runs only if it still holds. */
  constructor(
    readonly ms: number,
    private readonly idle: () => boolean,
    private readonly stop: () => void,
  ) {}

  /** It is in use again: no stop is pending. */
  cancel(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Something it did ended: if it is idle now, it stops after `ms` unless used meanwhile. */
  check(): void {
    if (this.timer || !this.idle()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.idle()) this.stop();
    }, this.ms);
    this.timer.unref?.();
  }
}
