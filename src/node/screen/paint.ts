/**
 * What an attaching terminal is sent to show a session as it is, and what a detaching one is
 * sent to be left clean. Runs in the screen worker, beside the emulator it reads.
 *
 * The paint's layout: the scrollback (if any) first, from the top of a cleared screen, then
 * enough newlines to scroll all of it into the terminal's own scrollback, then the session's
 * screen from the top-left corner, then its modes. So the session's row 1 is the terminal's
 * row 1 whatever the two sizes are (the program addresses rows absolutely), and history lands in
 * the terminal's scrollback above the screen, never inside it. A terminal larger than the
 * session shows the area the session does not use as such (see markOutside).
 */
import type { SerializeAddon } from "@xterm/addon-serialize";
import type { Terminal } from "@xterm/headless";
import type { TerminalModes } from "./modes";

/** Resets the terminal's screen before a paint with history. */
const CLEAR = "\x1b[0m\x1b[H\x1b[2J";

/**
 * Blanks the terminal's screen row by row, for a paint without history: many terminals (tmux,
 * VTE, kitty) keep what a full clear erases in their scrollback, which would add a copy of the
 * session's screen there at every reattach.
 */
function eraseRows(rows: number): string {
  let out = "\x1b[0m";
  for (let r = 1; r <= rows; r++) out += `\x1b[${r};1H\x1b[2K`;
  return `${out}\x1b[H`;
}

export interface PaintSize {
  cols: number;
  rows: number;
}

/**
 * The session's screen for a terminal of `client` size, with up to `history` lines of
 * scrollback before it (none while the alternate screen is up: the history belongs to the
 * normal screen, under the program's full-screen view).
 */
export function paint(term: Terminal, serializer: SerializeAddon, modes: TerminalModes, history: number, client: PaintSize): string {
  let out: string;
  const normal = term.buffer.normal;
  const screenTop = normal.length - term.rows;
  const from = Math.max(0, screenTop - history);
  if (term.buffer.active.type === "normal" && history > 0 && from < screenTop) {
    out = CLEAR + serializer.serialize({ range: { start: from, end: screenTop - 1 }, excludeAltBuffer: true, excludeModes: true });
    // From the last history line, `rows` newlines scroll every history line out of view and no blank line with them.
    out += `\x1b[0m${"\r\n".repeat(client.rows)}\x1b[H`;
  } else out = eraseRows(client.rows);
  out += serializer.serialize({ scrollback: 0 });
  out += modes.paint();
  // Only where the sizes differ: a program's own scroll region (painted above) must stand.
  return client.cols > term.cols || client.rows > term.rows ? out + markOutside(term, client) : out;
}

/**
 * A terminal larger than the session (another client chose its size) gets the area the session
 * does not use filled with dots, as tmux does, instead of whatever was there before, and a
 * scroll region of the session's height, so that a program scrolling its last row scrolls the
 * session's rows and not the terminal's. A terminal of the session's size gets its whole screen
 * back as the scroll region. The cursor and its attributes are saved and put back around it all.
 */
export function markOutside(size: PaintSize, client: PaintSize, before?: PaintSize): string {
  const taller = client.rows > size.rows;
  let out = `\x1b7\x1b[0m\x1b[${taller ? `1;${size.rows}` : ""}r`;
  // The session grew: what was dotted is the session's now, blank until the program draws there.
  if (before) {
    for (let r = 0; r < Math.min(before.rows, size.rows, client.rows); r++) if (before.cols < size.cols) out += `\x1b[${r + 1};${before.cols + 1}H\x1b[K`;
    for (let r = before.rows; r < Math.min(size.rows, client.rows); r++) out += `\x1b[${r + 1};1H\x1b[2K`;
  }
  const right = client.cols - size.cols;
  if (right > 0) for (let r = 0; r < Math.min(size.rows, client.rows); r++) out += `\x1b[${r + 1};${size.cols + 1}H${"·".repeat(right)}`;
  for (let r = size.rows; r < client.rows; r++) out += `\x1b[${r + 1};1H${"·".repeat(client.cols)}`;
  return `${out}\x1b8`;
}

/**
 * What a detaching terminal is sent after the client's own reset: the modes the session set,
 * back to their defaults, and the cursor at the start of a clean line below everything the
 * program drew on the normal screen (inline TUIs such as Claude Code draw there and leave the
 * cursor on their input line, above their footer), scrolling if the program used the last row.
 */
export function farewell(term: Terminal, modes: TerminalModes, client: PaintSize): string {
  const normal = term.buffer.normal;
  const top = normal.length - term.rows;
  let last = normal.cursorY;
  for (let r = term.rows - 1; r > last; r--) {
    if (normal.getLine(top + r)?.translateToString(true).trim()) {
      last = r;
      break;
    }
  }
  const below = last + 1;
  const place = below < client.rows ? `\x1b[${below + 1};1H` : `\x1b[${client.rows};1H\r\n`;
  return `${modes.reset()}\x1b[0m${place}\x1b[J`;
}
