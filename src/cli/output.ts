/** Printing for people and for machines: colour only on a TTY without NO_COLOR, JSON on request. */

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY) && process.env.TERM !== "dumb";
}

const paint = (code: string) => (s: string, stream?: NodeJS.WriteStream) => (useColor(stream) ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = paint("1");
export const dim = paint("2");
export const red = paint("31");
export const green = paint("32");
export const yellow = paint("33");
export const cyan = paint("36");

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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
  const tty = Boolean(process.stderr.isTTY);
  let shown = false;
  return {
    update(text) {
      if (!tty) return;
      process.stderr.write(`\r\x1b[2K${dim(text, process.stderr)}`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write("\r\x1b[2K");
      shown = false;
    },
  };
}
