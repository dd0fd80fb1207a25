/**
 * The screen worker: one headless terminal emulator per session, off the node's main thread so
 * parsing output never slows the output path. It keeps each session's screen and scrollback so
 * that attaching to a full-screen program paints its current screen, and it answers the
 * terminal queries TUIs send (the node forwards answers only while nobody is attached).
 */
import xterm from "@xterm/headless";
import { SerializeAddon } from "@xterm/addon-serialize";
import type { FromScreen, ToScreen } from "./messages";
import { TerminalModes } from "./modes";
import { farewell, paint } from "./paint";
import { handleText } from "./text-worker";
import { normalJit } from "../../sys/jit";
import { AGENTS } from "../agents";
import type { AgentName, AgentStateName } from "../../protocol/constants";

declare const self: Worker;
// This thread parses every session's output: the JIT as eager as usual (sys/jit.ts).
normalJit();
const { Terminal } = xterm as unknown as typeof import("@xterm/headless");
type Term = InstanceType<typeof Terminal>;

interface Screen {
  term: Term;
  serializer: SerializeAddon;
  /** The modes the serialize addon does not paint (modes.ts). */
  modes: TerminalModes;
  /** Offset of the last byte handed to the emulator. */
  fed: number;
}

const screens = new Map<number, Screen>();
/**
 * Sessions whose emulator is not made yet: it is made for their first byte of output or the
 * first question about them. An emulator costs ~120-180 KiB even for an empty screen (its
 * lines' cell arrays), which a session that has printed nothing (a `sleep`, a program waiting
 * on its input) does not need.
 */
const unmade = new Map<number, { cols: number; rows: number; scrollback: number; pipes: boolean }>();
const post = (m: FromScreen) => self.postMessage(m);

function screenOf(id: number): Screen | undefined {
  const s = screens.get(id);
  if (s) return s;
  const u = unmade.get(id);
  if (!u) return undefined;
  unmade.delete(id);
  return open(id, u.cols, u.rows, u.scrollback, u.pipes);
}

function open(id: number, cols: number, rows: number, scrollback: number, pipes: boolean): Screen {
  const term = new Terminal({ cols, rows, scrollback, allowProposedApi: true, convertEol: pipes });
  const serializer = new SerializeAddon();
  term.loadAddon(serializer as never);
  term.onData((data) => post({ type: "reply", id, data }));
  const modes = new TerminalModes(term);
  // Queries xterm.js does not answer itself; agents' TUIs wait on them. The kitty keyboard
  // flags are answered as the program last set them.
  term.parser.registerCsiHandler({ prefix: "?", final: "u" }, () => {
    post({ type: "reply", id, data: `\x1b[?${modes.kittyFlags}u` });
    return true;
  });
  for (const [code, rgb] of [[10, "ffff/ffff/ffff"], [11, "0000/0000/0000"]] as const) {
    term.parser.registerOscHandler(code, (data) => {
      if (data !== "?") return false;
      post({ type: "reply", id, data: `\x1b]${code};rgb:${rgb}\x1b\\` });
      return true;
    });
  }
  const s = { term, serializer, modes, fed: 0 };
  screens.set(id, s);
  return s;
}

function feed(s: Screen, id: number, bytes: Uint8Array, end: number, ack: boolean) {
  s.fed = end;
  s.term.write(bytes, ack ? () => post({ type: "ack", id, offset: end }) : undefined);
}

/** The visible rows of a screen as text, as parsed so far. */
function rowsOf(s: Screen): string[] {
  const buf = s.term.buffer.active;
  const lines: string[] = [];
  for (let r = 0; r < s.term.rows; r++) lines.push(buf.getLine(buf.viewportY + r)?.translateToString(true) ?? "");
  return lines;
}

/**
 * What each asked session's agent shows on its screen, read here where the screen is: one small
 * reply for all of them, instead of every screen's rows sent to the node for it to read.
 */
function answerStates(req: number, asked: { id: number; agent: AgentName }[]): void {
  void Promise.all(
    asked.map(async ({ id, agent }) => {
      const s = screens.get(id);
      if (!s) return { id, state: null };
      // Read once what was fed before the question is parsed, and before anything fed after it.
      const rows = await new Promise<string[]>((resolve) => s.term.write("", () => resolve(rowsOf(s))));
      const state: AgentStateName | null = AGENTS[agent].screenState(rows) ?? null;
      return { id, state };
    }),
  ).then((states) => post({ type: "states", req, states }));
}

self.onmessage = (ev: MessageEvent<ToScreen>) => {
  const m = ev.data;
  if (handleText(m, (id) => screens.get(id), post)) return;
  switch (m.type) {
    case "data":
      for (const d of m.items) {
        const s = screenOf(d.id);
        if (s) feed(s, d.id, d.bytes, d.end, d.ack);
      }
      if (m.states && m.req !== undefined) answerStates(m.req, m.states);
      return;
    case "open":
      unmade.set(m.id, { cols: m.cols, rows: m.rows, scrollback: m.scrollback, pipes: m.pipes ?? false });
      return;
    case "close": {
      unmade.delete(m.id);
      const s = screens.get(m.id);
      screens.delete(m.id);
      // Disposed once what was fed is parsed: a question asked before the close (the summary a
      // session's exit asks for) is then answered from its screen, not from an emptied one.
      // Answered from an emptied one, the summary replayed the log's tail through a new
      // 4096-line terminal instead: +10-20 MiB in this thread just as a flood ended.
      s?.term.write("", () => s.term.dispose());
      return;
    }
    case "resize": {
      const u = unmade.get(m.id);
      if (u) {
        u.cols = m.cols;
        u.rows = m.rows;
        return;
      }
    }
  }
  const s = screenOf(m.id);
  if (!s) return;
  switch (m.type) {
    case "reset":
      s.term.reset();
      s.modes.clear();
      // reset() drops the whole screen and scrollback (a thousand lines of cell arrays) for new
      // ones; a flood resynchronises again and again (screens.ts: RESYNC_EVERY_MS), and left to
      // itself this heap grew to ~23 MiB of dropped screens before it collected them. Collected
      // now, while they are all that is new: 3-20 ms of this thread, only during floods (node
      // peak RSS with 256 MiB through a session, detached: 104-111 -> 92-94 MiB).
      Bun.gc(true);
      feed(s, m.id, m.bytes, m.end, true);
      return;
    case "sync": {
      const at = s.fed;
      s.term.write("", () => post({ type: "ack", id: m.id, offset: at }));
      return;
    }
    case "resize":
      s.term.resize(m.cols, m.rows);
      return;
    case "probe": {
      const at = s.fed;
      s.term.write("", () => {
        const buf = s.term.buffer.active;
        const line = buf.getLine(buf.baseY + buf.cursorY)?.translateToString(true) ?? "";
        post({ type: "probe", id: m.id, req: m.req, bracketedPaste: s.term.modes.bracketedPasteMode, cursorLine: line, offset: at });
      });
      return;
    }
    case "text": {
      const at = s.fed;
      s.term.write("", () => {
        const buf = s.term.buffer.active;
        post({ type: "text", id: m.id, req: m.req, lines: rowsOf(s), cursor: { x: buf.cursorX, y: buf.cursorY }, alt: buf.type === "alternate", offset: at });
      });
      return;
    }
    case "snapshot":
      // Wait until everything fed so far is parsed; the callback runs before any later chunk is
      // parsed, so the snapshot matches `at` exactly.
      const at = s.fed;
      s.term.write("", () => {
        const alt = s.term.buffer.active.type === "alternate";
        const data = paint(s.term, s.serializer, s.modes, m.scrollback, m.client ?? s.term);
        post({ type: "snapshot", id: m.id, req: m.req, data, offset: at, alt });
      });
      return;
    case "farewell": {
      const at = s.fed;
      s.term.write("", () => post({ type: "farewell", id: m.id, req: m.req, data: farewell(s.term, s.modes, m.client), offset: at }));
      return;
    }
  }
};
