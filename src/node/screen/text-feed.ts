/**
 * Live output into a line stream (line-stream.ts), for views that follow a session as text
 * (logs --plain --follow, watch --json, MCP watch). Chunks go to the worker in order; lines come
 * back as they are done. The screen lines are read when the output pauses (SETTLE_IDLE_MS) and,
 * during a steady stream that never pauses (a spinner), at least every SETTLE_EVERY_MS, so a
 * line that stays on the screen is seen within about a second.
 */
import type { Screens, TextStream } from "./screens";

const SETTLE_IDLE_MS = 250;
const SETTLE_EVERY_MS = 1000;
/** Output waiting for the worker beyond this is skipped (and said so): a follower never buffers without bound. */
const MAX_BACKLOG = 8 * 1024 * 1024;

export class TextFeed {
  private readonly stream: TextStream;
  private chain: Promise<void> = Promise.resolve();
  private backlog = 0;
  private skipped = 0;
  private lastSettle = performance.now();
  private idle?: ReturnType<typeof setTimeout>;
  private closed = false;

  constructor(
    screens: Screens,
    s: { record: { cols: number; rows: number; terminal: boolean } },
    private readonly emit: (lines: string[]) => void,
  ) {
    this.stream = screens.openStream(s.record.cols, s.record.rows, !s.record.terminal);
  }

  /** Output bytes, in order. */
  push(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.backlog + bytes.length > MAX_BACKLOG) {
      this.skipped += bytes.length;
      return;
    }
    const settle = performance.now() - this.lastSettle >= SETTLE_EVERY_MS;
    // A copy: it waits its turn, and the chunk is the PTY's, freed once the output path is done with it (Pty.onData).
    this.enqueue(new Uint8Array(bytes), settle);
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.enqueue(new Uint8Array(0), true), SETTLE_IDLE_MS);
  }

  /** Output read from the log at the reader's pace: resolves once its lines were emitted. */
  write(bytes: Uint8Array): Promise<void> {
    this.enqueue(bytes, false);
    return this.chain;
  }

  /** The output has ended: every line still on the screen comes out, then the stream closes. */
  async finish(): Promise<void> {
    clearTimeout(this.idle);
    if (this.closed) return;
    this.enqueue(new Uint8Array(0), true, true);
    await this.chain;
    this.close();
  }

  close(): void {
    clearTimeout(this.idle);
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
  }

  private enqueue(bytes: Uint8Array, settle: boolean, final = false): void {
    if (settle) this.lastSettle = performance.now();
    this.backlog += bytes.length;
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      const lines: string[] = await this.stream.feed(bytes, settle, final).catch(() => []);
      this.backlog -= bytes.length;
      if (this.skipped) {
        lines.unshift(`[cw: ${this.skipped} bytes of output skipped here (this text view fell behind); the log keeps them]`);
        this.skipped = 0;
      }
      if (lines.length && !this.closed) this.emit(lines);
    });
  }
}
