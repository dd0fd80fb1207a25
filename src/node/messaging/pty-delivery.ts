/**
 * Submitting a line to a session's terminal the way agents' TUIs accept it. Every way a line is
 * submitted (cw send, MCP send_input, cw msg --delivery pty) comes through here.
 *
 * All three agents take a fast burst of text ending in CR as a paste and the CR as a newline in
 * it, so typing "text\r" in one write often types but never submits. Instead:
 *   1. the text goes as a bracketed paste when the program asked for bracketed paste (as plain
 *      keys otherwise, or when it holds control keys, which a paste would make literal);
 *   2. we wait until it shows on the program's input line (the cursor's line), then pause, since
 *      TUIs swallow an Enter that comes inside or right after a paste;
 *   3. Enter (CR) as a write of its own;
 *   4. we check that the input line no longer holds the text, and press Enter once more if it
 *      still does.
 * The outcome says what was seen: verified (taken), failed (still on the input line after two
 * Enters) or unconfirmed (the text never showed there: no echo, a "[Pasted text]" placeholder, a
 * line wrapped inside the part we look for; Enter was pressed once and nothing more is known).
 *
 * On a terminal, newlines in the text become CRs, as a terminal sends them when one types or
 * pastes (a raw-mode program reads LF as Ctrl+J). A program on pipes gets the text and "\n".
 */
import type { Screens } from "../screen/screens";
import type { Session } from "../session";

export type SubmitOutcome = "verified" | "unconfirmed" | "failed";

/** Enter's minimum distance from the end of the paste. */
const PASTE_SETTLE_MS = 150;
/**
 * How long the text may take to show on the input line. Generous: an agent written in Node on a
 * busy machine took over a second to draw a pasted prompt, and an Enter sent before it did was
 * taken into the paste (typed, never submitted). Only a program that shows nothing waits it out.
 */
const ECHO_WAIT_MS = 3000;
/** After an Enter sent without having seen the text: how long it may still take to show up. */
const LATE_ECHO_MS = 1000;
/** How long, after each Enter, the text may take to leave the input line. */
const TAKEN_WAIT_MS = 1000;
const POLL_MS = 25;
/** How much of the text's end is looked for on the input line (short, so a wrapped line seldom splits it; see shows()). */
const MARKER_CHARS = 12;

const PASTE_START = Buffer.from("\x1b[200~");
const PASTE_END = Buffer.from("\x1b[201~");
const CR = Buffer.from("\r");

/** Text as a terminal sends it: every newline (LF or CRLF) a carriage return. */
export function asTyped(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x0d && bytes[i + 1] === 0x0a) continue; // CRLF: its LF becomes the one CR
    out[n++] = b === 0x0a ? 0x0d : b;
  }
  return out.subarray(0, n);
}

/** Control keys other than newline and tab: keys to press, which must not become pasted text. */
function hasControlKeys(bytes: Uint8Array): boolean {
  return bytes.some((b) => (b < 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) || b === 0x7f);
}

/**
 * The text's last line as a screen shows it (the input line holds the last line of a multi-line
 * text): printable characters, runs of space as one.
 */
function lastLineOf(text: string): string {
  const last = text.split(/\r\n|\r|\n/).pop() ?? "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return last.replace(/[\x00-\x1f\x7f\ufffd]+/g, " ").replace(/\s+/g, " ").trim();
}

/** What an input line is, without the frame and prompt a TUI draws around it. */
const FRAME = /^[\s│┃|>❯›»]+|[\s│┃|]+$/g;
/** The shortest wrapped tail of a line taken as showing it: fewer characters say too little. */
const MIN_TAIL_CHARS = 4;

/**
 * Whether `line` (the cursor's line) shows the end of `last`: its last MARKER_CHARS characters,
 * or, where a long line wrapped among them, the wrapped tail the cursor's line holds.
 */
function shows(line: string, last: string): boolean {
  const l = line.replace(/\s+/g, " ");
  if (l.includes(last.slice(-MARKER_CHARS))) return true;
  const tail = l.replace(FRAME, "");
  return tail.length >= MIN_TAIL_CHARS && last.endsWith(tail);
}

/** Whether the input line shows the end of `last`; undefined when the screen does not answer. */
async function onInputLine(s: Session, screens: Screens, last: string): Promise<boolean | undefined> {
  const probe = await screens.probe(s.id);
  return probe ? shows(probe.cursorLine, last) : undefined;
}

const negate = (v: boolean | undefined) => (v === undefined ? undefined : !v);

/** Polls `check` until it is true or `ms` pass; its last answer. */
async function pollUntil(check: () => Promise<boolean | undefined>, ms: number): Promise<boolean | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== false || Date.now() >= until) return v;
    await Bun.sleep(POLL_MS);
  }
}

/** One submission at a time per session: two at once would interleave their text and Enters. */
const queues = new WeakMap<Session, Promise<unknown>>();
function oneAtATime<T>(s: Session, fn: () => Promise<T>): Promise<T> {
  const next = (queues.get(s) ?? Promise.resolve()).then(fn, fn);
  queues.set(s, next.catch(() => {}));
  return next;
}

export interface SubmitOptions {
  /**
   * The text is one submission (a message): where a newline would submit part of it early (on
   * pipes, or a terminal without bracketed paste) it becomes a space.
   */
  oneLine?: boolean;
}

/**
 * Types `text` into the session and presses Enter as described above. null when there was
 * nothing to check: a program on pipes (a line written to a pipe is read as written), or text
 * with nothing printable (Enter alone, a control key).
 */
export function submitLine(s: Session, screens: Screens, text: Uint8Array, opts: SubmitOptions = {}): Promise<SubmitOutcome | null> {
  return oneAtATime(s, () => submitNow(s, screens, Buffer.from(text), opts));
}

async function submitNow(s: Session, screens: Screens, text: Buffer, opts: SubmitOptions): Promise<SubmitOutcome | null> {
  if (!s.running) return "failed";
  if (!s.onTerminal) {
    s.write(Buffer.concat([opts.oneLine ? Buffer.from(text.toString("utf8").replace(/\r?\n/g, " ")) : text, Buffer.from("\n")]));
    return null;
  }
  const last = lastLineOf(text.toString("utf8"));
  if (!text.length) {
    s.write(CR);
    return null;
  }
  const probe = await screens.probe(s.id);
  const paste = (probe?.bracketedPaste ?? false) && !hasControlKeys(text);
  // Without bracketed paste a newline would submit early: a message stays on one line.
  const body = !paste && opts.oneLine ? Buffer.from(text.toString("utf8").replace(/\r?\n/g, " ")) : asTyped(text);
  const pastedAt = Date.now();
  s.write(paste ? Buffer.concat([PASTE_START, body, PASTE_END]) : body);
  const shown = last ? (await pollUntil(() => onInputLine(s, screens, last), ECHO_WAIT_MS)) === true : false;
  await Bun.sleep(Math.max(0, pastedAt + PASTE_SETTLE_MS - Date.now()));
  if (!s.running) return "failed";
  if (!shown) {
    s.write(CR);
    if (!last) return null;
    // The text may show only now, our Enter taken inside the paste: it then sits on the input
    // line, and the Enters below submit it.
    if ((await pollUntil(() => onInputLine(s, screens, last), LATE_ECHO_MS)) !== true) return "unconfirmed";
    await Bun.sleep(PASTE_SETTLE_MS);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    s.write(CR);
    // Gone from the input line (or the program ended, as "exit" typed into a shell makes it).
    const taken = await pollUntil(async () => (s.running ? negate(await onInputLine(s, screens, last)) : true), TAKEN_WAIT_MS);
    if (taken === undefined) return "unconfirmed";
    if (taken) return "verified";
  }
  return "failed";
}

/** A message typed into a session's terminal (cw msg --delivery pty): whether it was not refused. */
export async function typeIntoSession(s: Session, screens: Screens, text: string): Promise<boolean> {
  return (await submitLine(s, screens, Buffer.from(text, "utf8"), { oneLine: true })) !== "failed";
}
