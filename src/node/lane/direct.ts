/**
 * Direct terminals: how a session on Bun's own PTY (pty/bun-terminal.ts) is served where a lane
 * cannot be had (its reading could not be handed over in time, its terminal fell behind a lane,
 * or CODEWIRE_PTY_LANES=0). As with lanes
 * (lanes.ts), the node serves a local `cw attach` client's terminal itself, as tmux's server
 * does, so a keystroke's echo crosses one process instead of three: terminal → node → program →
 * node → terminal. Unlike lanes there is no thread: Bun's event loop already reads the PTY, so
 * the program's output is written to the terminal from the PTY's data callback (the session's
 * viewers are fed before anything else is done with a chunk). The terminal's keys are read by
 * the lane thread (lanes.ts, openKeys) in its blocking poll(2) loop and written straight to the
 * PTY's master: read by the event loop they cost ~2x the output's way (a ReadableStream's
 * promises and Bun's read-ahead polls; timed with perf trace, 160-200 µs against 65-110 on a
 * loaded 2-core VM). Where the lane thread cannot serve, the event loop reads them.
 *
 * The terminal is written with non-blocking write(2). What it cannot take at once waits in the
 * queue of a Connection (the one a Viewer needs), retried every few milliseconds until it drains,
 * so a slow terminal slows only itself: past the queue's high water the viewer falls back to the
 * log, and past the attach's lag limit it is repainted, as any slow attach client is.
 */
import { closeSync } from "node:fs";
import { DetachKeys } from "../../protocol/detach-keys";
import { EAGAIN, writeSome } from "../../sys/libc";
import { Connection } from "../connection";
import { BunTerminalPty } from "../pty/bun-terminal";
import { closeFd, dupFd } from "../pty/master-fd";
import type { Pty } from "../pty/types";
import type { Lane, Lanes } from "./lanes";

/** How long a lone ESC (or a Ctrl+B) is held back to see whether more of a sequence follows. */
const ESC_TIMEOUT_MS = 50;
/** How often a terminal that could not take everything is tried again. */
const RETRY_MS = 2;
/** How long a closing terminal may take to accept what is queued for it before it is let go. */
const CLOSE_GRACE_MS = 1000;

export interface DirectEvents {
  /** Keys the user typed (Ctrl+B d taken out), to go to the program. */
  keys(bytes: Uint8Array): void;
  /** Keys the lane thread wrote to the program itself: how many, the last at `at` (epoch ms). */
  typed(bytes: number, at: number): void;
  /** Ctrl+B d. */
  detach(): void;
  /** The terminal is gone. */
  hangup(): void;
}

export interface DirectTerminal {
  /** The terminal as a connection: a Viewer writes the session's output to it (raw, no frames). */
  readonly out: Connection;
  /** Stops reading keys and closes the terminal once what is queued was written (or at once). */
  close(): void;
}

/** Whether a direct terminal can serve this session: Bun's PTY, on Linux, lanes not turned off. */
export function canServeDirect(pty: Pty | undefined): boolean {
  return process.platform === "linux" && process.env.CODEWIRE_LANES !== "0" && pty instanceof BunTerminalPty && !pty.isExited;
}

let announced = false;

/** Serves the terminal `fd` (opened non-blocking by Lanes.openTerminal; closed by us). */
export function serveDirect(fd: number, pty: BunTerminalPty, lanes: Lanes, events: DirectEvents, log: (msg: string) => void): DirectTerminal {
  if (!announced) log("attach serves terminals directly (Bun's PTY: see node/lane/direct.ts)");
  announced = true;
  let closed = false;
  /** close() was called: keys are no longer read, the queue is being written out. */
  let closing = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const gone = () => {
    if (closed) return;
    finish();
    events.hangup();
  };
  const out = new Connection({
    write(bytes) {
      if (closed) return bytes.length;
      let n: number;
      try {
        n = writeSome(fd, bytes);
      } catch {
        queueMicrotask(gone);
        return bytes.length;
      }
      if (n === -EAGAIN) n = 0;
      if (n < bytes.length) retry ??= setTimeout(flush, RETRY_MS);
      return n;
    },
    end() {
      finish();
    },
  });
  const flush = () => {
    retry = undefined;
    out.drained();
  };

  let keysLane: Lane | undefined;
  let stopReading = () => {};
  const readOnLoop = () => {
    stopReading = readKeys(fd, events, () => closing || closed, gone);
  };
  if (lanes.canServeKeys()) {
    const ptyFd = pty.dupMaster();
    const ttyFd = ptyFd >= 0 ? dupFd(fd) : -1;
    if (ttyFd >= 0) {
      keysLane = lanes.openKeys(ttyFd, ptyFd, {
        input: (n, at) => events.typed(n, at),
        keys: (bytes) => events.keys(bytes),
        detach: () => events.detach(),
        hangup: gone,
        // The lane thread failed: this thread reads the keys from now on.
        lagged: () => {
          keysLane = undefined;
          if (!closed) readOnLoop();
        },
        output: () => new Uint8Array(0),
      });
    } else closeFd(ptyFd);
  }
  if (!keysLane) readOnLoop();

  function finish() {
    if (closed) return;
    closed = true;
    if (retry) clearTimeout(retry);
    keysLane?.close();
    stopReading();
    out.closedByPeer();
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }

  return {
    out,
    close() {
      if (closing || closed) return;
      closing = true;
      // Keys typed from now on are the user's shell's (after a detach), not the session's.
      keysLane?.close();
      keysLane = undefined;
      // What is queued still goes out first (end() calls finish once it has), for a while.
      setTimeout(finish, CLOSE_GRACE_MS).unref?.();
      out.end();
    },
  };
}

/**
 * Reads the terminal's keys on the event loop (where the lane thread cannot): Ctrl+B d detaches,
 * a lone Escape is let through after ESC_TIMEOUT_MS. Returns what stops it.
 */
function readKeys(fd: number, events: DirectEvents, ignoring: () => boolean, gone: () => void): () => void {
  const keys = new DetachKeys();
  let escTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const reader = Bun.file(fd).stream().getReader();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || stopped) break;
        if (ignoring()) continue;
        if (escTimer) clearTimeout(escTimer);
        escTimer = undefined;
        const r = keys.feed(value);
        if (r.forward.length) events.keys(r.forward);
        if (r.detach) {
          events.detach();
          return;
        }
        if (keys.holding) {
          escTimer = setTimeout(() => {
            escTimer = undefined;
            const held = keys.flushPending();
            if (held.length && !ignoring()) events.keys(held);
          }, ESC_TIMEOUT_MS);
        }
      }
    } catch {
      /* the terminal hung up */
    }
    if (!stopped) gone();
  })();
  return () => {
    stopped = true;
    if (escTimer) clearTimeout(escTimer);
    void reader.cancel().catch(() => {});
  };
}
