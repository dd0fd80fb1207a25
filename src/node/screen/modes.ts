/**
 * The terminal modes a program can switch on that the serialize addon does not paint: cursor
 * visibility, mouse encodings, alternate scroll, colour-scheme reports, the kitty keyboard
 * protocol's flag stacks, xterm's modifyOtherKeys (and the other XTMODKEYS resources), the
 * cursor style and the window title.
 *
 * It hooks the headless terminal's own parser, so it sees exactly the bytes the screen sees, in
 * the same order and at the same offsets (a snapshot's modes match its screen). Every handler
 * returns false: xterm.js still does its own work with the sequence afterwards.
 *
 * Two uses: `paint()` puts an attaching terminal into the session's modes after the screen is
 * drawn, and `reset()` takes every mode the session ever set back to its default when a client
 * detaches (we cannot know what the terminal had before, so defaults, as tmux does).
 */
import type { Terminal } from "@xterm/headless";

type Params = (number | number[])[];

/**
 * DEC private modes tracked here, with their defaults. The addon already paints 1, 9, 1000-1004
 * and 2004 (which the client resets on every detach anyway) and autowrap, origin mode, reverse
 * wrap and the numeric keypad, which are here so that a detach resets them if they were changed.
 */
const DEC_DEFAULTS = new Map<number, boolean>([
  [7, true], // autowrap
  [6, false], // origin mode
  [45, false], // reverse wraparound
  [66, false], // numeric keypad (DECNKM)
  [25, true], // cursor visible
  [12, false], // cursor blinking
  [1001, false], // highlight mouse tracking
  [1005, false], // UTF-8 mouse encoding
  [1006, false], // SGR mouse encoding
  [1015, false], // urxvt mouse encoding
  [1016, false], // SGR pixel mouse encoding
  [1007, false], // alternate scroll (wheel as arrow keys on the alternate screen)
  [2031, false], // colour-scheme change reports
  [2048, false], // in-band resize reports
]);
/** The kitty keyboard protocol's stack holds at most this many entries per screen (as kitty). */
const KITTY_STACK_MAX = 16;

/** A kitty keyboard flag stack: `base` is the flags with nothing pushed. */
interface KittyStack {
  base: number;
  pushed: number[];
}

const first = (p: Params, i: number, dflt: number): number => {
  const v = p[i];
  const n = Array.isArray(v) ? v[0] : v;
  return n === undefined || n < 0 ? dflt : n;
};

export class TerminalModes {
  private dec = new Map<number, boolean>();
  /** XTMODKEYS resources set (`CSI > Pp ; Pv m`): 4 is modifyOtherKeys. */
  private modKeys = new Map<number, number>();
  private kitty: Record<"normal" | "alternate", KittyStack> = { normal: { base: 0, pushed: [] }, alternate: { base: 0, pushed: [] } };
  private cursorStyle = 0;
  private title = "";
  /** What the session ever changed, so that a detach resets exactly that. */
  private touched = { dec: new Set<number>(), modKeys: new Set<number>(), kitty: false, cursorStyle: false, title: false, insert: false };

  constructor(private readonly term: Terminal) {
    const p = term.parser;
    p.registerCsiHandler({ prefix: "?", final: "h" }, (params) => this.setDec(params, true));
    p.registerCsiHandler({ prefix: "?", final: "l" }, (params) => this.setDec(params, false));
    // Insert mode (IRM, `CSI 4 h`): the addon paints it; a detach must take it back.
    p.registerCsiHandler({ final: "h" }, (params) => {
      if (params.includes(4)) this.touched.insert = true;
      return false;
    });
    p.registerCsiHandler({ prefix: ">", final: "m" }, (params) => {
      const res = first(params, 0, -1);
      if (res < 0) return false;
      this.touched.modKeys.add(res);
      if (params.length < 2) this.modKeys.delete(res);
      else this.modKeys.set(res, first(params, 1, 0));
      return false;
    });
    // XTMODKEYS off (`CSI > Pp n`): the resource is disabled.
    p.registerCsiHandler({ prefix: ">", final: "n" }, (params) => {
      this.modKeys.delete(first(params, 0, -1));
      return false;
    });
    p.registerCsiHandler({ prefix: ">", final: "u" }, (params) => this.kittyPush(first(params, 0, 0)));
    p.registerCsiHandler({ prefix: "<", final: "u" }, (params) => this.kittyPop(Math.max(1, first(params, 0, 1))));
    p.registerCsiHandler({ prefix: "=", final: "u" }, (params) => this.kittySet(first(params, 0, 0), first(params, 1, 1)));
    p.registerCsiHandler({ intermediates: " ", final: "q" }, (params) => {
      this.cursorStyle = first(params, 0, 0);
      this.touched.cursorStyle = true;
      return false;
    });
    // DECSTR (soft reset) shows the cursor again; RIS resets everything.
    p.registerCsiHandler({ intermediates: "!", final: "p" }, () => {
      this.dec.delete(25);
      return false;
    });
    p.registerEscHandler({ final: "c" }, () => {
      this.clear();
      return false;
    });
    term.onTitleChange((t) => {
      this.title = t;
      this.touched.title = true;
    });
  }

  /** The kitty flags in force now (the answer to `CSI ? u`). */
  get kittyFlags(): number {
    const s = this.stack();
    return s.pushed.at(-1) ?? s.base;
  }

  /** The emulator was reset (RIS, or resynchronised from the log's tail): every mode is at its default. What was touched stays touched. */
  clear(): void {
    this.dec.clear();
    this.modKeys.clear();
    this.kitty = { normal: { base: 0, pushed: [] }, alternate: { base: 0, pushed: [] } };
    this.cursorStyle = 0;
  }

  /** Sequences that put a terminal, just painted with the screen, into the session's modes. */
  paint(): string {
    let out = "";
    for (const [mode, on] of this.dec) out += `\x1b[?${mode}${on ? "h" : "l"}`;
    // The addon paints the keypad as DECNKM (?66), which tmux and others ignore; DECKPAM is understood everywhere.
    if (this.term.modes.applicationKeypadMode) out += "\x1b=";
    for (const [res, v] of this.modKeys) out += `\x1b[>${res};${v}m`;
    const k = this.stack();
    if (k.base) out += `\x1b[=${k.base};1u`;
    for (const f of k.pushed) out += `\x1b[>${f}u`;
    if (this.cursorStyle) out += `\x1b[${this.cursorStyle} q`;
    if (this.title) out += `\x1b]2;${printable(this.title)}\x1b\\`;
    return out;
  }

  /**
   * Sequences that take back, to their defaults, the modes this session ever changed (the title
   * is left to the client, which saved the terminal's own before attaching).
   */
  reset(): string {
    let out = "";
    for (const mode of this.touched.dec) out += `\x1b[?${mode}${DEC_DEFAULTS.get(mode) ? "h" : "l"}`;
    if (this.touched.insert) out += "\x1b[4l";
    for (const res of this.touched.modKeys) out += `\x1b[>${res}m`;
    if (this.touched.kitty) out += "\x1b[=0;1u\x1b[<99u";
    if (this.touched.cursorStyle) out += "\x1b[0 q";
    return out;
  }

  private stack(): KittyStack {
    return this.kitty[this.term.buffer.active.type];
  }

  private setDec(params: Params, on: boolean): false {
    for (const p of params) {
      const mode = Array.isArray(p) ? p[0] : p;
      if (mode === undefined || !DEC_DEFAULTS.has(mode)) continue;
      this.touched.dec.add(mode);
      if (DEC_DEFAULTS.get(mode) === on) this.dec.delete(mode);
      else this.dec.set(mode, on);
    }
    return false;
  }

  private kittyPush(flags: number): false {
    const s = this.stack();
    s.pushed.push(flags);
    if (s.pushed.length > KITTY_STACK_MAX) s.pushed.shift();
    this.touched.kitty = true;
    return false;
  }

  private kittyPop(n: number): false {
    const s = this.stack();
    // Popping more than was pushed empties the stack and resets the flags (kitty's spec).
    if (n >= s.pushed.length) this.kitty[this.term.buffer.active.type] = { base: 0, pushed: [] };
    else s.pushed.length -= n;
    return false;
  }

  /** `CSI = flags ; mode u`: 1 sets the flags, 2 adds them, 3 removes them. */
  private kittySet(flags: number, mode: number): false {
    const s = this.stack();
    const cur = s.pushed.at(-1) ?? s.base;
    const next = mode === 2 ? cur | flags : mode === 3 ? cur & ~flags : flags;
    if (s.pushed.length) s.pushed[s.pushed.length - 1] = next;
    else s.base = next;
    this.touched.kitty = true;
    return false;
  }
}

/** A title as a terminal may be sent it: no control characters that could end or escape the OSC. */
function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, "").slice(0, 256);
}
