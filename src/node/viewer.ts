/**
 * A client following a session's live output (attach, watch, logs --follow).
 *
 * Each viewer has its own cursor. While its connection keeps up it gets output as it happens;
 * when its connection backs up past HIGH_WATER it stops receiving live chunks and, each time the
 * socket drains, catches up from the output log at its own pace. So a slow client never blocks
 * the session or other clients, never loses output that is still in the log, and never makes
 * the node buffer without bound.
 */
import { type Connection, HIGH_WATER } from "./connection";
import type { OutputLog } from "./output-log";

const CATCHUP_CHUNK = 256 * 1024;

export interface ViewerOptions {
  /** Delivers bytes; defaults to raw data frames. */
  deliver?: (bytes: Uint8Array) => void;
  /**
   * For a terminal (attach): when it falls further behind than `lagLimit` bytes, replaying the
   * backlog would only scroll past what the screen shows now. `onLag` is called instead; it
   * repaints and calls `jumpTo` with the offset the repaint reflects.
   */
  lagLimit?: number;
  onLag?: (viewer: Viewer) => void;
}

export class Viewer {
  /** Offset of the next byte this viewer should receive. */
  cursor: number;
  private behind = false;
  /** Waiting for onLag's repaint: deliver nothing meanwhile. */
  private repainting = false;
  private readonly deliver: (bytes: Uint8Array) => void;
  /** Called whenever the viewer has caught up with the live end. */
  onCaughtUp?: () => void;

  constructor(
    readonly conn: Connection,
    private readonly log: OutputLog,
    private readonly liveEnd: () => number,
    start: number,
    private readonly opts: ViewerOptions = {},
  ) {
    this.cursor = start;
    this.deliver = opts.deliver ?? ((b) => conn.data(b));
    conn.onDrain(() => this.catchUp());
  }

  /** After a repaint that reflects output up to `offset`: continue from there. */
  jumpTo(offset: number): void {
    this.repainting = false;
    this.cursor = offset;
    this.resume();
  }

  /**
   * Delivers a new chunk at once if this viewer is live and in step with it; returns false
   * (having done nothing) otherwise, and the chunk must then go through push() once it is in
   * the log.
   */
  pushLive(bytes: Uint8Array, end: number): boolean {
    if (this.behind || end - bytes.length !== this.cursor) return false;
    this.deliver(bytes);
    this.cursor = end;
    if (this.conn.pendingBytes > HIGH_WATER) this.behind = true;
    return true;
  }

  /** Called with each new chunk, after it was logged; `end` is the session offset after it. */
  push(bytes: Uint8Array, end: number): void {
    if (this.behind) return;
    const start = end - bytes.length;
    if (start !== this.cursor) {
      // A gap (we joined mid-chunk or fell behind): serve the rest from the log.
      this.behind = true;
      this.catchUp();
      return;
    }
    this.deliver(bytes);
    this.cursor = end;
    if (this.conn.pendingBytes > HIGH_WATER) this.behind = true;
  }

  /** Starts (or restarts) the viewer from the log at its cursor, then it goes live. */
  resume(): void {
    this.behind = true;
    this.catchUp();
  }

  /** Sends what the viewer missed from the log until it is live again or the socket backs up. */
  catchUp(): void {
    while (this.behind && !this.repainting && !this.conn.closed && this.conn.pendingBytes <= HIGH_WATER) {
      const end = this.liveEnd();
      if (this.opts.onLag && this.opts.lagLimit !== undefined && end - this.cursor > this.opts.lagLimit) {
        this.repainting = true;
        this.opts.onLag(this);
        return;
      }
      if (this.cursor < this.log.start) this.cursor = this.log.start;
      if (this.cursor >= end) {
        this.behind = false;
        this.onCaughtUp?.();
        return;
      }
      // Bytes the disk refused (or rotated away) are skipped: the cursor jumps the gap.
      const { offset, bytes } = this.log.readAt(this.cursor, Math.min(end, this.cursor + CATCHUP_CHUNK));
      if (bytes.length) this.deliver(bytes);
      this.cursor = offset + bytes.length;
    }
  }
}
