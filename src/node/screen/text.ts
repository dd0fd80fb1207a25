/**
 * The text of a session: what a person would read on its terminal, taken from a terminal model
 * (an @xterm/headless buffer), never from the raw bytes. A program's `\r\r\n`, its cursor moves
 * (`ESC[5G`), a spinner redrawn with `\r` and its colours all end up as the characters on the
 * screen, exactly as a terminal shows them. Runs inside the screen worker.
 */
import type { IBuffer } from "@xterm/headless";

/**
 * THE conversion: rows [from, to) of a terminal buffer as lines of plain text. A line the
 * terminal wrapped at its right margin is one line again (its rows joined, since the program
 * printed it as one), trailing blanks are dropped. A logical line that starts before `from` is
 * taken from its first row, so no line is ever cut in two.
 */
export function bufferText(buf: IBuffer, from: number, to: number): string[] {
  while (from > 0 && buf.getLine(from)?.isWrapped) from--;
  const out: string[] = [];
  let line = "";
  for (let y = from; y < to; y++) {
    const row = buf.getLine(y);
    if (!row) break;
    const next = buf.getLine(y + 1);
    // Untrimmed when the next row continues it: a space at the right margin is a real space.
    const continued = y + 1 < to && next?.isWrapped === true;
    line += row.translateToString(!continued);
    if (continued) continue;
    out.push(line.trimEnd());
    line = "";
  }
  if (line) out.push(line.trimEnd());
  return out;
}

/**
 * Index of the last row with any text on it, +1: the end of what is shown. Blank rows below it
 * are no output, wherever the cursor is (a trailing newline leaves it on an empty row; a TUI may
 * park it at the bottom of the screen).
 */
export function usedRows(buf: IBuffer): number {
  // (translateToString trims only cells never written; a TUI clears rows by writing spaces.)
  for (let y = buf.length - 1; y >= 0; y--) if (buf.getLine(y)?.translateToString(true).trim()) return y + 1;
  return 0;
}

/** The last `count` lines of what the buffer shows (scrollback and screen), blank tail dropped. */
export function lastLines(buf: IBuffer, count: number): string[] {
  const lines = bufferText(buf, 0, usedRows(buf));
  return lines.slice(-count);
}
