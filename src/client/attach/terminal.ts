/** The user's terminal during attach: raw mode in, and everything put back on the way out. */
import { isatty, windowSize, writeAllSync } from "../../sys/libc";

/**
 * Undo what a program in the session may have switched on, so the user's shell is usable after
 * detaching: leave the alternate screen, show the cursor, stop mouse and focus reporting,
 * bracketed paste and the kitty keyboard protocol, reset colours.
 */
export const RESTORE =
  "\x1b[?1049l\x1b[?47l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?2004l\x1b[?1l\x1b>\x1b[<99u\x1b[0m\r\n";

export function enterRaw(): () => void {
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    if (isatty(1)) {
      try {
        writeAllSync(1, new TextEncoder().encode(RESTORE));
      } catch {
        /* the terminal is gone */
      }
    }
  };
}

export function terminalSize(): { cols: number; rows: number } {
  return windowSize(1) ?? windowSize(0) ?? { cols: 80, rows: 24 };
}
