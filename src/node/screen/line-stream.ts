/**
 * A session's output as a stream of text lines, for the line-oriented views (logs --plain, watch
 * --json, MCP watch): the bytes go through a headless terminal of the session's size, and lines
 * come out of that terminal model (bufferText), not out of the bytes.
 *
 * When is a line done? A terminal can rewrite any row on its screen at any time (a spinner, an
 * agent's TUI redrawing its box), so:
 * - a line that has scrolled off the top into the scrollback can no longer change: it is emitted
 *   once it gets there (final);
 * - a quiet program's last lines may never scroll off (a server's "listening on :8080"), so when
 *   the caller says the output has settled (idle for a moment, or the end of the output), the
 *   lines on the screen are emitted too (provisional), and remembered: a provisional line is
 *   emitted again only if it has changed when it scrolls off or at the next settle. Nothing is
 *   repeated, and a redrawn line shows up once per change a watcher could have seen.
 * Lines are read from the normal buffer: a full-screen program on the alternate screen leaves
 * no lines behind (as in a terminal's scrollback). Only at the end of the text, if it is still
 * showing, its screen closes the text: that is what the terminal shows last.
 *
 * Each fed chunk is written in slices no larger than the scrollback holds rows, so no line can
 * scroll through the whole scrollback and be trimmed before it is read.
 */
import xterm, { type IBuffer } from "@xterm/headless";
import { bufferText, usedRows } from "./text";

const { Terminal } = xterm as unknown as typeof import("@xterm/headless");
type Term = InstanceType<typeof Terminal>;
type Marker = NonNullable<ReturnType<Term["registerMarker"]>>;

const SCROLLBACK = 4096;
/** Each byte can add at most one row (a newline, or a character that wraps): half the scrollback. */
const SLICE = SCROLLBACK / 2;

export class LineStream {
  private readonly term: Term;
  /** First row not yet final (tracked as the scrollback trims); undefined: row 0. */
  private boundary?: Marker;
  /** Provisional lines emitted, by their first row's distance from the boundary. */
  private provisional = new Map<number, string>();

  constructor(cols: number, rows: number, pipes: boolean) {
    this.term = new Terminal({ cols, rows, scrollback: SCROLLBACK, allowProposedApi: true, convertEol: pipes });
  }

  /**
   * Parses `bytes`; calls `done` with the lines that became final (and, if `settle`, the
   * screen's; if `final`, a full-screen program's screen too).
   */
  feed(bytes: Uint8Array, settle: boolean, final: boolean, done: (lines: string[]) => void): void {
    const lines: string[] = [];
    for (let at = 0; at < bytes.length; at += SLICE) {
      this.term.write(bytes.subarray(at, at + SLICE), () => lines.push(...this.harvest(false)));
    }
    this.term.write("", () => {
      if (settle || final) lines.push(...this.harvest(true));
      const alt = this.term.buffer.active;
      if (final && alt !== this.term.buffer.normal) lines.push(...bufferText(alt, 0, usedRows(alt)));
      done(lines);
    });
  }

  dispose(): void {
    this.term.dispose();
  }

  private harvest(settle: boolean): string[] {
    const buf = this.term.buffer.normal;
    // While the alternate screen shows, the normal buffer stands still (and markers would land
    // on the other buffer): nothing becomes final, a settle reads the normal screen as it was.
    const alt = this.term.buffer.active !== buf;
    let start = this.boundary ? this.boundary.line : 0;
    // Trimmed away unread: cannot happen with sliced writes; start at what is there.
    if (start < 0) start = 0;
    let end = alt ? start : buf.baseY;
    // A line whose continuation is still on the screen is not final yet.
    while (end > start && buf.getLine(end)?.isWrapped) end--;
    const out: string[] = [];
    this.collect(buf, start, end, start, out, false);
    const moved = end - start;
    const shifted = new Map<number, string>();
    for (const [k, v] of this.provisional) if (k >= moved) shifted.set(k - moved, v);
    this.provisional = shifted;
    if (!alt && (moved > 0 || !this.boundary)) {
      this.boundary?.dispose();
      // Markers are placed relative to the cursor's row.
      this.boundary = this.term.registerMarker(end - (buf.baseY + buf.cursorY));
    }
    if (settle) this.collect(buf, end, Math.max(end, usedRows(buf)), end, out, true);
    return out;
  }

  /** Lines starting in rows [from, to), skipping those already emitted with the same text. */
  private collect(buf: IBuffer, from: number, to: number, base: number, out: string[], remember: boolean) {
    let y = from;
    for (const text of bufferText(buf, from, to)) {
      const key = y - base;
      if (this.provisional.get(key) !== text) out.push(text);
      if (remember) this.provisional.set(key, text);
      else this.provisional.delete(key);
      // Advance past this line's rows (the first and every wrapped continuation).
      y++;
      while (y < to && buf.getLine(y)?.isWrapped) y++;
    }
  }
}
