/**
 * Printing for people and for machines: colour only on a TTY without NO_COLOR, JSON on request.
 *
 * Output goes straight to file descriptors 1 and 2 with blocking writes: touching
 * process.stdout costs a compiled Bun binary ~10 ms at start-up, a third of a `cw list`, and a
 * blocking write is the simplest correct backpressure for a command-line tool.
 */
import { writeSync } from "node:fs";
import { isatty } from "node:tty";

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A non-blocking pipe that is full: wait a moment and go on.
      if (code === "EAGAIN") Atomics.wait(pause, 0, 0, 2);
      // The reader went away (`cw logs 1 | head`): nothing left to do.
      else if (code === "EPIPE") process.exit(0);
      else throw e;
    }
  }
}

export const out = (data: string | Uint8Array) => writeAll(1, data);
export const err = (data: string | Uint8Array) => writeAll(2, data);

/** Columns and rows of the terminal on stdout, or defaults when it is not a terminal. */
export function termSize(fallback = { cols: 120, rows: 40 }): { cols: number; rows: number } {
  if (!isatty(1)) return fallback;
  return { cols: process.stdout.columns || fallback.cols, rows: process.stdout.rows || fallback.rows };
}

export function useColor(fd = 1): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR) return true;
  return isatty(fd) && process.env.TERM !== "dumb";
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

/** A left-aligned table; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const width = (i: number) => Math.max(header[i]!.length, ...rows.map((r) => visible(r[i] ?? "").length));
  const widths = header.map((_, i) => width(i));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(Math.max(0, widths[i]! - visible(c).length))))
      .join("  ")
      .trimEnd();
  return [line(header.map((h) => bold(h))), ...rows.map(line)].join("\n");
}

function visible(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strip our own colours when measuring
  return s.replace(/\x1b\[[0-9;]*m/g, "");
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
