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
 * A left-aligned table; the last column is not padded.
 *
 * Plain loops and string appends on purpose: a CLI runs this once, cold, and JavaScriptCore
 * compiles each of map/fill/repeat/padEnd (written in JavaScript) on its first call. For a
 * 100-row `cw list` that made this function cost ~1 ms instead of ~0.5.
 */
export function table(header: string[], rows: string[][]): string {
  const cols = header.length;
  const widths: number[] = [];
  for (let i = 0; i < cols; i++) widths.push(header[i]!.length);
  for (let r = 0; r < rows.length; r++) {
    const cells = rows[r]!;
    for (let i = 0; i < cols - 1; i++) {
      const n = visibleLength(cells[i] ?? "");
      if (n > widths[i]!) widths[i] = n;
    }
  }
  const line = (cells: string[], style?: (s: string) => string) => {
    let text = "";
    for (let i = 0; i < cols - 1; i++) {
      const cell = cells[i] ?? "";
      text += style ? style(cell) : cell;
      for (let pad = widths[i]! - visibleLength(cell) + 2; pad > 0; pad -= SPACES.length) text += SPACES.slice(0, pad);
    }
    const last = cells[cols - 1] ?? "";
    return (text + (style && last ? style(last) : last)).trimEnd();
  };
  let text = line(header, bold);
  for (let r = 0; r < rows.length; r++) text += `\n${line(rows[r]!)}`;
  return text;
}

const SPACES = "                                                                ";

/** Length on screen: without our own colour codes (most cells have none, so skip the regex). */
function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strip our own colours when measuring
  return s.includes("\x1b") ? s.replace(/\x1b\[[0-9;]*m/g, "").length : s.length;
}

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
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
