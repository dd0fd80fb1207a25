/**
 * Printing for people and for machines: colour only on a TTY without NO_COLOR, JSON on request.
 *
 * Output goes straight to file descriptors 1 and 2 with blocking writes through libc (see
 * sys/libc.ts: process.stdout, node:tty and node:fs each cost a compiled binary milliseconds at
 * start-up), and a blocking write is the simplest correct backpressure for a command-line tool.
 */
import { EPIPE, isatty, WriteError, windowSize, writeAllSync } from "../sys/libc";

const encoder = new TextEncoder();

function writeAll(fd: number, data: string | Uint8Array): void {
  try {
    writeAllSync(fd, typeof data === "string" ? encoder.encode(data) : data);
  } catch (e) {
    // The reader went away (`cw logs 1 | head`): nothing left to do.
    if (e instanceof WriteError && e.errno === EPIPE) process.exit(0);
    throw e;
  }
}

export const out = (data: string | Uint8Array) => writeAll(1, data);
export const err = (data: string | Uint8Array) => writeAll(2, data);

/** Columns and rows of the terminal on stdout, or defaults when it is not a terminal. */
export function termSize(fallback = { cols: 120, rows: 40 }): { cols: number; rows: number } {
  return windowSize(1) ?? fallback;
}

const colorOn = new Map<number, boolean>();

export function useColor(fd = 1): boolean {
  let on = colorOn.get(fd);
  if (on === undefined) {
    if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") on = false;
    else if (process.env.FORCE_COLOR) on = true;
    else on = isatty(fd) && process.env.TERM !== "dumb";
    colorOn.set(fd, on);
  }
  return on;
}

const paint = (code: string) => (s: string, fd = 1) => (useColor(fd) ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = paint("1");
export const dim = paint("2");
export const red = paint("31");
export const green = paint("32");
export const yellow = paint("33");
export const cyan = paint("36");

export function printJson(value: unknown): void {
  out(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A left-aligned table; the last column is not padded, nor are empty cells at the end of a row.
 *
 * Written for a cold start: a CLI runs this once, and JavaScriptCore compiles each builtin
 * written in JavaScript (map, fill, repeat, padEnd, …) on its first call. So: plain loops, each
 * cell measured once, and one join of all the pieces. Its first call for 100 rows (measured when
 * `cw list` still used it) costs 0.4-0.6 ms in the compiled binary; string appends with a trim
 * per line cost 0.5-1.7 ms.
 */
export function table(header: string[], rows: string[][]): string {
  const cols = header.length;
  // One flat list of cells, header first. The loops below call no small functions: each one
  // would get its own JIT compile as soon as the loop is warm, which costs more than it saves.
  const cells: string[] = [];
  const lengths: number[] = [];
  const widths: number[] = [];
  for (let i = 0; i < cols; i++) widths.push(0);
  for (let r = -1; r < rows.length; r++) {
    const row = r < 0 ? header : rows[r]!;
    for (let i = 0; i < cols; i++) {
      const text = row[i] ?? "";
      const len = text.includes("\x1b") ? visibleLength(text) : text.length;
      cells.push(text);
      lengths.push(len);
      if (i < cols - 1 && len > widths[i]!) widths[i] = len;
    }
  }
  for (let i = 0; i < cols; i++) if (header[i]) cells[i] = bold(header[i]!);
  const parts: string[] = [];
  for (let at = 0; at < cells.length; at += cols) {
    let last = cols - 1;
    while (last > 0 && lengths[at + last] === 0) last--;
    for (let i = 0; i <= last; i++) {
      parts.push(cells[at + i]!);
      if (i === last) break;
      for (let pad = widths[i]! - lengths[at + i]! + 2; pad > 0; pad -= SPACES.length) parts.push(pad < SPACES.length ? SPACES.slice(0, pad) : SPACES);
    }
    parts.push("\n");
  }
  parts.pop();
  return parts.join("");
}

const SPACES = "                                                                ";

/** Length on screen: without our own colour codes. */
function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strip our own colours when measuring
  return s.replace(/\x1b\[[0-9;]*m/g, "").length;
}

/** How long ago `iso` was; pass `now` when formatting many (Date.now per row adds up cold). */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** A progress line on stderr for long waits, redrawn in place; only on a TTY. */
export function progress(): { update(text: string): void; done(): void } {
  const tty = isatty(2);
  let shown = false;
  return {
    update(text) {
      if (!tty) return;
      err(`\r\x1b[2K${dim(text, 2)}`);
      shown = true;
    },
    done() {
      if (shown) err("\r\x1b[2K");
      shown = false;
    },
  };
}
