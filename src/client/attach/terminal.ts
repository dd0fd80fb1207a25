/** The user's terminal during attach: raw mode in, and everything put back on the way out. */
import { isatty, windowSize, writeAllSync } from "../../sys/libc";

/**
 * Undo what a program in the session may have switched on, so the user's shell is usable after
 * detaching, to the defaults (we cannot know what the terminal had before; tmux does the same):
 * the whole screen as the scroll region, show the cursor, stop mouse reporting in every
 * encoding, focus and colour-scheme reports, synchronized output (a program cut off mid-update
 * would freeze the screen) and bracketed paste, normal cursor keys and keypad, the cursor's
 * default shape, modifyOtherKeys off, the kitty keyboard protocol's flags popped on both
 * screens, leave the alternate screen, reset colours. Modes whose default differs between
 * terminals (alternate scroll), and those a shell never changes (autowrap, insert mode), are
 * reset by the node only if the session set them (AttachEnded.restore).
 */
export const RESTORE =
  "\x1b7\x1b[r\x1b8\x1b[?25h\x1b[?9l\x1b[?1000l\x1b[?1001l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l\x1b[?1004l\x1b[?2031l\x1b[?2026l\x1b[?2004l\x1b[?1l\x1b>\x1b[0 q\x1b[>4m\x1b[=0;1u\x1b[<99u\x1b[?1049l\x1b[?47l\x1b[=0;1u\x1b[<99u\x1b[0m";
/** The window title is saved on the terminal's title stack before attaching and taken back after. */
export const SAVE_TITLE = "\x1b[22;0t";
const RESTORE_TITLE = "\x1b[23;0t";

/**
 * Raw mode on; returns what puts the terminal back, to be called with what the node sends for it
 * (AttachEnded.restore), or without (an older node, a lost connection): then a new line.
 */
export function enterRaw(): (fromNode?: string) => void {
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  let restored = false;
  return (fromNode) => {
    if (restored) return;
    restored = true;
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    if (isatty(1)) {
      try {
        writeAllSync(1, new TextEncoder().encode(RESTORE + RESTORE_TITLE + (fromNode ?? "\r\n")));
      } catch {
        /* the terminal is gone */
      }
    }
  };
}

export function terminalSize(): { cols: number; rows: number } {
  return windowSize(1) ?? windowSize(0) ?? { cols: 80, rows: 24 };
}
