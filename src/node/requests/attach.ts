/**
 * Attach: paint the session's current screen, then stream its output live while forwarding the
 * client's keystrokes and size. Nothing is lost or doubled between the two: the screen snapshot
 * reflects the output up to a known offset and the live stream resumes from exactly there.
 */
import { AttachControl, ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import type { BunTerminalPty } from "../pty/bun-terminal";
import type { Lane } from "../lane/lanes";
import { canServeDirect, serveDirect } from "../lane/direct";
import { markOutside } from "../screen/paint";
import type { Session } from "../session";
import { follow } from "../stream";
import type { Viewer } from "../viewer";
import { type Size, SessionSize } from "../window-size";

/** Resets the client's screen when there is no screen to paint (the program just ended). */
const CLEAR = "\x1b[0m\x1b[H\x1b[2J";
/** How many terminals per session are remembered as holding its history. */
const TERMINALS_KEPT = 64;
/**
 * A terminal further behind than this is repainted from the screen instead of replaying the
 * backlog (as tmux redraws rather than replays): the user sees the current screen at once.
 */
const ATTACH_LAG_LIMIT = 4 * 1024 * 1024;
const INPUT_EVENT_EVERY_MS = 1000;
/** How many turns of the event loop an attach waits for Bun's PTY to be free for a lane. */
const LANE_TURNS = 5;

export async function attach(req: RequestOf<"Attach">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (!s.running) {
    throw new ProtocolError("not_running", `session ${s.id} has ended (${s.record.status})`, `cw logs ${s.id} shows what it printed`);
  }
  let size: Size = { cols: req.cols, rows: req.rows };
  /** Writes to the client's terminal once it has been painted (socket or lane). */
  let toTerminal: ((bytes: string) => void) | undefined;
  const client = sessionSize(s, ctx).add(size, (session, before) => toTerminal?.(markOutside(session, size, before)));
  s.attached++;
  ctx.events.emit(s.source, "session.attached", { attached_count: s.attached });

  let inputBytes = 0;
  let inputTimer: ReturnType<typeof setTimeout> | undefined;
  const flushInput = () => {
    inputTimer = undefined;
    if (inputBytes) ctx.events.emit(s.source, "session.input", { bytes: inputBytes, source: "attach" });
    inputBytes = 0;
  };

  let ended = false;
  const detach = () => {
    if (ended) return;
    ended = true;
    s.attached--;
    client.remove();
    if (inputTimer) clearTimeout(inputTimer);
    flushInput();
    ctx.events.emit(s.source, "session.detached", { attached_count: s.attached });
  };
  conn.onClose(detach);

  /**
   * Tells the client why its attachment ends, once, and closes the connection. With the reason
   * goes what leaves its terminal clean (the modes the session set, the cursor below the
   * program's drawing), which the screen worker knows; without it if the worker cannot say.
   */
  let ending = false;
  const end = (reason: "detached" | "ended") => {
    if (ending || ended || conn.closed) return;
    ending = true;
    const why = reason === "detached" ? "detached" : ctx.stopping() ? "node_stopping" : s.record.status === "killed" ? "killed" : "exited";
    const info = s.info();
    void ctx.screens.farewell(s.id, size).then((restore) => {
      if (ended || conn.closed) return;
      conn.reply({ type: "AttachEnded", reason: why, session: info, ...(restore ? { restore } : {}) });
      detach();
      conn.end();
    });
  };
  const countInput = (n: number, at?: number) => {
    client.active(at);
    inputBytes += n;
    inputTimer ??= setTimeout(flushInput, INPUT_EVENT_EVERY_MS);
  };
  conn.onFrame = (f) => {
    if (f.kind === "data") {
      s.write(f.bytes);
      countInput(f.bytes.length);
      return;
    }
    const m = AttachControl.safeParse(f.message);
    if (!m.success) return; // unknown control messages from newer clients are ignored
    if (m.data.type === "Resize") {
      size = { cols: m.data.cols, rows: m.data.rows };
      client.resize(size);
    } else if (m.data.type === "EndInput") s.endInput();
    else end("detached");
  };

  // A local client's terminal may be served by the node directly: by the lane thread (a lane; see
  // lane/lanes.ts), or on Bun's PTY where a lane cannot be had, by this thread (a direct terminal,
  // lane/direct.ts).
  const direct = canServeDirect(s.pty);
  let laneFd = req.tty && conn.local && (direct || ctx.lanes.canServe(s.pty)) ? ctx.lanes.openTerminal(req.tty) : undefined;
  conn.reply({ type: "Attached", session: s.info(), ...(laneFd !== undefined ? { lane: true } : {}) });
  let from = s.offset;
  let paint = "";
  if (req.history) {
    // A terminal that was sent the history before still has it in its scrollback: sending it
    // again would add a copy per attach. It gets the screen alone (cw logs has the rest).
    const terminals = historyTerminals(s);
    const history = req.terminal_id && terminals.has(req.terminal_id) ? 0 : ctx.config.historyLines;
    const snap = await ctx.screens.snapshot(s.id, history, size);
    if (snap) {
      paint = snap.data;
      from = snap.offset;
      if (req.terminal_id && history > 0) remember(terminals, req.terminal_id);
    }
  }
  if (conn.closed) {
    if (laneFd !== undefined) ctx.lanes.closeTerminal(laneFd);
    return;
  }
  /**
   * Paints `first`, then follows the session from `start` into `out`: the client's socket (data
   * frames), or its terminal itself (raw bytes; a direct terminal).
   */
  const paintAndFollow = (start: number, first: string, out: Connection = conn) => {
    const send = out === conn ? (b: Uint8Array) => conn.data(b) : (b: Uint8Array) => out.write(b);
    if (first) send(Buffer.from(first, "utf8"));
    toTerminal = (bytes) => send(Buffer.from(bytes, "utf8"));
    const repaintInto = async (v: Viewer) => {
      const screen = await freshScreen();
      if (conn.closed || out.closed) return;
      send(Buffer.from(screen.paint, "utf8"));
      v.jumpTo(screen.offset);
    };
    // A direct terminal's last output must reach it before the client, told the session ended,
    // restores the terminal: otherwise the tail of a flood lands after the restore.
    const onEnded = out === conn ? () => end("ended") : () => afterFlushed(out, () => end("ended"));
    follow(out, s, start, { lagLimit: ATTACH_LAG_LIMIT, onLag: (v) => void repaintInto(v), ...(out === conn ? {} : { deliver: send }) }, onEnded);
  };
  /** The screen as it is now, and the offset it reflects. */
  const freshScreen = async () => {
    const snap = await ctx.screens.snapshot(s.id, 0, size);
    // No screen (the program just ended): its last screenful of output stands in for it.
    return snap ? { paint: snap.data, offset: snap.offset } : { paint: CLEAR, offset: s.log.offsetOfLastLines(s.record.rows) };
  };
  if (laneFd !== undefined && !(canServeDirect(s.pty) || ctx.lanes.canServe(s.pty))) {
    // The program ended while the screen was read: no lane after all.
    ctx.lanes.closeTerminal(laneFd);
    laneFd = undefined;
    conn.reply({ type: "LaneEnded" });
  }
  if (laneFd === undefined) return paintAndFollow(from, paint);

  // The lane thread paints the screen, then what the program printed since the snapshot (this
  // thread has those bytes; from now on that thread reads the PTY itself), then live output. When
  // another lane already reads this PTY, bytes it read are still on their way to the log: it asks
  // for them (output) before this lane's live output.
  let stopLaneEnd = () => {};
  // The client's terminal is gone: so is the client, or it will notice on its own.
  const hangup = () => {
    detach();
    conn.end();
  };
  const laneEvents = {
    input: countInput,
    output: (start: number, end: number) => s.log.read(start, end),
    // Keys its PTY could not take at once: written here, after what Bun's writer holds.
    keys: (bytes: Uint8Array) => s.write(bytes),
    detach: () => end("detached"),
    hangup,
    // Its terminal cannot keep up: from a fresh screen, on Bun's PTY this thread serves the
    // terminal itself (a direct terminal reads the log at the terminal's pace); elsewhere the
    // client takes keys and output over the socket again, as any slow client does.
    lagged: () => {
      if (ended || conn.closed) return;
      toTerminal = undefined;
      stopLaneEnd();
      const fd = req.tty && canServeDirect(s.pty) ? ctx.lanes.openTerminal(req.tty) : undefined;
      ctx.log(`lane: session ${s.id}'s terminal fell behind; serving it ${fd === undefined ? "over the socket" : "directly"}`);
      if (fd === undefined) conn.reply({ type: "LaneEnded" });
      void freshScreen().then((screen) => {
        if (conn.closed) {
          if (fd !== undefined) ctx.lanes.closeTerminal(fd);
          return;
        }
        if (fd !== undefined && canServeDirect(s.pty)) return serveDirectTerminal(fd, screen.offset, screen.paint);
        if (fd !== undefined) {
          // The program ended meanwhile: the client hears of it over its socket.
          ctx.lanes.closeTerminal(fd);
          conn.reply({ type: "LaneEnded" });
        }
        paintAndFollow(screen.offset, screen.paint);
      });
    },
  };
  const openLane = () =>
    ctx.lanes.canServe(s.pty) ? ctx.lanes.open(s.pty, laneFd!, () => Buffer.concat([Buffer.from(paint, "utf8"), s.log.read(from, s.offset)]), () => s.offset, laneEvents) : undefined;
  let lane = openLane();
  // Bun's event loop may be about to read the PTY in this very turn (lane/epoll-reader.ts): a
  // few turns later it is not.
  for (let turn = 0; !lane && direct && ctx.lanes.canServe(s.pty) && turn < LANE_TURNS; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (conn.closed) {
      ctx.lanes.closeTerminal(laneFd);
      return;
    }
    lane = openLane();
  }
  if (lane) return serveLane(lane);
  if (canServeDirect(s.pty)) return serveDirectTerminal(laneFd, from, paint);
  // The program ended meanwhile.
  ctx.lanes.closeTerminal(laneFd);
  conn.reply({ type: "LaneEnded" });
  return paintAndFollow(from, paint);

  function serveDirectTerminal(fd: number, start: number, first: string) {
    const tty = serveDirect(fd, s.pty as BunTerminalPty, ctx.lanes, {
      keys: (bytes) => {
        s.write(bytes);
        countInput(bytes.length);
      },
      typed: countInput,
      detach: () => end("detached"),
      hangup,
    }, ctx.log);
    conn.onClose(() => tty.close());
    return paintAndFollow(start, first, tty.out);
  }

  function serveLane(lane: Lane) {
    toTerminal = (bytes) => lane.write(Buffer.from(bytes, "utf8"));
    conn.onClose(() => lane.close());
    stopLaneEnd = s.onExit(() => {
      lane.close();
      end("ended");
    });
  }
}

/** Each session's attached clients' sizes, and the size it takes from them (window-size.ts). */
const sizes = new WeakMap<Session, SessionSize>();

function sessionSize(s: Session, ctx: NodeContext): SessionSize {
  let z = sizes.get(s);
  if (!z) {
    z = new SessionSize(
      ctx.config.windowSize,
      () => ({ cols: s.record.cols, rows: s.record.rows }),
      (size) => s.resize(size.cols, size.rows),
    );
    sizes.set(s, z);
  }
  return z;
}

/** The terminals (Attach's terminal_id) that were sent each session's history. */
const painted = new WeakMap<Session, Set<string>>();

function historyTerminals(s: Session): Set<string> {
  let set = painted.get(s);
  if (!set) painted.set(s, (set = new Set()));
  return set;
}

function remember(set: Set<string>, terminal: string): void {
  set.delete(terminal);
  set.add(terminal);
  // Oldest first: forget those beyond the limit (they would be sent the history again).
  for (const t of set) {
    if (set.size <= TERMINALS_KEPT) break;
    set.delete(t);
  }
}

/** How long a terminal that will not take its last output is waited for before that is dropped. */
const FLUSH_GRACE_MS = 1000;

/**
 * Runs `then` once `out` has written everything queued for it; past FLUSH_GRACE_MS what is still
 * queued is dropped (out is closed) and `then` runs anyway.
 */
function afterFlushed(out: Connection, then: () => void): void {
  if (out.closed || out.pendingBytes === 0) return then();
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    stop();
    clearTimeout(timer);
    if (!out.closed && out.pendingBytes > 0) out.closedByPeer();
    then();
  };
  const stop = out.onDrain(() => {
    if (out.pendingBytes === 0) go();
  });
  const timer = setTimeout(go, FLUSH_GRACE_MS);
}
