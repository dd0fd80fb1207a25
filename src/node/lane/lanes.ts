/**
 * Lanes: local `cw attach` clients whose terminal the node serves directly, as tmux's server
 * does, from a thread of its own (worker.ts) instead of through the attach socket and the
 * client process. A keystroke then crosses one thread in a blocking poll(2) loop instead of two
 * processes' event loops (measured in scripts/bench: see README, "Attach").
 *
 * The client still owns its terminal's mode (raw on, restored on exit) and its size, and keeps
 * its socket for control: Resize, Detach on a signal, AttachEnded. The node opens the terminal
 * by its path (the client sends it), so the client's own descriptors are left as they were.
 *
 * On Linux, for sessions on bun-pty's terminals (the lane thread reads their channel) and on Bun's
 * own (it reads the PTY's master, while Bun's event loop is kept from reading it:
 * pty/epoll-reader.ts). One thread then both writes a key and reads its echo, as tmux's server
 * does: in canonical mode, where the kernel echoes, the event loop reading the echo was a second
 * thread to wake for every key.
 */
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { FFIType, ptr } from "bun:ffi";
import { isatty, openLibc, writeSome } from "../../sys/libc";
import { isCompiledBinary } from "../../sys/self";
import { IdleStop } from "../idle-stop";
import { BunPty } from "../pty/bun-pty";
import { closeFd } from "../pty/master-fd";
import { type HandOverPty, isHandOverPty, type Pty } from "../pty/types";
import { type FromLane, INFLIGHT_BYTES, RING_BYTES, type ToLane } from "./messages";

export interface LaneEvents {
  /** Bytes the user typed reached the program; the last of them at `at` (epoch ms). */
  input(bytes: number, at: number): void;
  /** Ctrl+B d. */
  detach(): void;
  /** The terminal is gone. */
  hangup(): void;
  /** The terminal fell too far behind: serve the client over its socket from now on. */
  lagged(): void;
  /** The session's logged output in [from, to) (a lane opened behind the lane thread: see catchup). */
  output(from: number, to: number): Uint8Array;
  /** Keys a keys lane's PTY could not take at once: to be written by this thread. */
  keys?(bytes: Uint8Array): void;
}

export interface Lane {
  /** Writes bytes of the node's own to the terminal, in order with the program's output. */
  write(bytes: Uint8Array): void;
  /** Stops serving the terminal (after writing what it still holds, if it can). */
  close(): void;
}

function workerUrl(): string {
  return isCompiledBinary() ? "./node/lane/worker.ts" : new URL("./worker.ts", import.meta.url).href;
}

const O_NONBLOCK_CLOEXEC = 0o4000 | 0o2000000;

/**
 * How long the lane thread is kept with no lane and no PTY of its own before it is stopped; the
 * next local attach starts another. Each thread is a JavaScript VM of its own: a node attached to
 * once kept ~4 MiB for the rest of its life (measured: one attach, then idle, anonymous memory
 * 15.9 -> 20.9 MiB). A minute, so that attaching again soon after a detach does not pay a start.
 */
export const LANE_IDLE_MS = 60_000;

/** The terminals a client may hand us: a PTY's slave or a console, never an arbitrary file. */
const TTY_PATH_RE = /^\/dev\/(?:pts\/\d+|tty[\w.]*)$/;

/** pipe2(2), the one call sys/libc does not have (for the lane thread's wake pipe). */
let pipe2: ((fds: Int32Array, flags: number) => number) | null | undefined;
function openPipe2() {
  if (pipe2 !== undefined) return pipe2;
  const c = openLibc({ pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 } });
  pipe2 = c && ((fds, flags) => c.fn.pipe2!(ptr(fds), flags) as number);
  return pipe2;
}

export class Lanes {
  private worker?: Worker;
  private port?: MessagePort;
  private wakeRead = -1;
  private wakeWrite = -1;
  /** Stops the thread with no lane and no PTY of its own (see LANE_IDLE_MS). */
  private readonly idleStop: IdleStop;
  private readonly inflight = new Int32Array(new SharedArrayBuffer(4));
  /** The running thread's output ring (messages.ts: RING_BYTES), made with the thread. */
  private ring: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private readonly wakeByte = new Uint8Array([1]);
  private nextLane = 1;
  /** The lane thread failed: lanes are off for the rest of this node's life. */
  private broken = false;
  /** Output came for a PTY no longer given away (a bug: it is lost), said once in the log. */
  private toldLost = false;
  /** Open lanes: what to tell about each, and the PTY it serves. */
  private readonly lanes = new Map<number, { events: LaneEvents; handle: number; fd: number; ptyFd?: number }>();
  /** PTYs the lane thread reads, with how many lanes the main thread believes it serves on each. */
  private readonly owned = new Map<number, { pty: HandOverPty; lanes: number }>();

  constructor(
    private readonly log: (msg: string) => void,
    idleMs = LANE_IDLE_MS,
  ) {
    this.idleStop = new IdleStop(idleMs, () => this.worker !== undefined && !this.broken && this.lanes.size === 0 && this.owned.size === 0, () => this.stop());
  }

  /** Whether the lane thread is running (started, and not stopped for idleness). */
  get threadRunning(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Whether a lane can serve this session's terminal at all (open may still decline, for a
   * moment: see there).
   */
  canServe(pty: Pty | undefined): pty is HandOverPty {
    if (this.broken || process.platform !== "linux" || process.env.CODEWIRE_LANES === "0") return false;
    if (!isHandOverPty(pty) || pty.isExited || openPipe2() === null) return false;
    // Bun's PTY: unless told to serve it as a direct terminal (lane/direct.ts) instead.
    return pty instanceof BunPty || process.env.CODEWIRE_PTY_LANES !== "0";
  }

  /**
   * Opens the client's terminal by `path`; undefined (with a reason in node.log) when it is not
   * one we may serve. The check is what a terminal is, not who asks: the socket is the user's own.
   */
  openTerminal(path: string): number | undefined {
    if (!TTY_PATH_RE.test(path)) return undefined;
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (e) {
      this.log(`lane: cannot open ${path}: ${(e as Error).message}`);
      return undefined;
    }
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || !isatty(fd) || (process.getuid && st.uid !== process.getuid())) {
      closeSync(fd);
      this.log(`lane: ${path} is not a terminal of this user`);
      return undefined;
    }
    return fd;
  }

  /** Whether the lane thread can read keys for a direct terminal (openKeys). */
  canServeKeys(): boolean {
    return !this.broken && process.platform === "linux" && process.env.CODEWIRE_LANES !== "0" && openPipe2() !== null;
  }

  /**
   * The keystroke half of a direct terminal (direct.ts): the lane thread reads the keys from the
   * terminal `fd` and writes them to the PTY master `ptyFd` in its blocking poll(2) loop, with no
   * event loop on their way. Both descriptors become the lane thread's (it closes them). Output
   * is not its business: `write` and the `lagged`, `output` events are unused.
   */
  openKeys(fd: number, ptyFd: number, events: LaneEvents): Lane {
    this.start();
    const lane = this.nextLane++;
    this.lanes.set(lane, { events, handle: -1, fd, ptyFd });
    this.send({ type: "open-keys", lane, fd, ptyFd });
    return {
      write: () => {},
      close: () => {
        if (this.forget(lane)) this.send({ type: "close", lane });
      },
    };
  }

  /** Closes a terminal that openTerminal opened and no lane took. */
  closeTerminal(fd: number): void {
    closeSync(fd);
  }

  /**
   * Serves the terminal `fd` for `pty`: paints `paint()` (the session up to log offset
   * `offset()`), then live output; keys go to the program. Undefined (nothing changed, `fd` still
   * the caller's) when the node cannot give its reading of the PTY up at this moment: Bun's event
   * loop is about to read it in this turn. A later turn can try again.
   */
  open(pty: HandOverPty, fd: number, paint: () => Uint8Array, offset: () => number, events: LaneEvents): Lane | undefined {
    let own = this.owned.get(pty.handle);
    const fresh = !own;
    // Bun's PTY: the lane thread reads its master and writes keys to it with descriptors of its own.
    let readFd: number | undefined;
    let ptyFd: number | undefined;
    if (!(pty instanceof BunPty)) {
      ptyFd = pty.dupMaster();
      if (ptyFd < 0) return undefined;
      // With every lane, not only the PTY's first: the thread may have stopped reading it by now
      // (its last lane lagged or hung up, and "released" is on its way here while this main
      // thread still counts that lane) and closed its descriptor. It keeps this one only if it
      // has none. (Sent only with a PTY's first lane, a second client attaching in that moment
      // left the thread a PTY it had no descriptor for, and it failed.)
      readFd = pty.dupReader() ?? -1;
      if (readFd < 0) {
        closeFd(ptyFd);
        return undefined;
      }
    }
    // From here on the lane thread alone reads this PTY (two readers would split its output).
    if (fresh && !pty.giveReading()) {
      closeFd(ptyFd ?? -1);
      closeFd(readFd ?? -1);
      return undefined;
    }
    try {
      this.start();
    } catch (e) {
      if (fresh) pty.takeReading();
      closeFd(ptyFd ?? -1);
      closeFd(readFd ?? -1);
      throw e;
    }
    const lane = this.nextLane++;
    this.lanes.set(lane, { events, handle: pty.handle, fd, ...(ptyFd !== undefined ? { ptyFd } : {}) });
    if (!own) {
      this.owned.set(pty.handle, (own = { pty, lanes: 0 }));
      const handle = pty.handle;
      // The PTY calls it only while its reading is given away.
      pty.onInputWhileGiven = () => {
        if (this.owned.has(handle)) this.send({ type: "typed", handle });
      };
    }
    own.lanes++;
    // Copied, not transferred: `paint` may be a view into a buffer shared with other Buffers.
    this.send({ type: "open", lane, handle: pty.handle, fd, paint: paint(), offset: offset(), fresh, ...(readFd !== undefined ? { readFd } : {}), ...(ptyFd !== undefined ? { ptyFd } : {}) });
    return {
      write: (bytes) => {
        if (this.lanes.has(lane)) this.send({ type: "write", lane, bytes });
      },
      close: () => {
        if (this.forget(lane)) this.send({ type: "close", lane });
      },
    };
  }

  /** A lane is over (closed here, or by the lane thread); false if it already was. */
  private forget(lane: number): boolean {
    const open = this.lanes.get(lane);
    if (!open) return false;
    this.lanes.delete(lane);
    const own = this.owned.get(open.handle);
    if (own) own.lanes--;
    this.idleStop.check();
    return true;
  }

  private start(): void {
    this.idleStop.cancel();
    if (this.worker) return;
    const fds = new Int32Array(2);
    if (openPipe2()!(fds, O_NONBLOCK_CLOEXEC) !== 0) throw new Error("lane: pipe2 failed");
    this.wakeRead = fds[0]!;
    this.wakeWrite = fds[1]!;
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.worker = new Worker(workerUrl());
    this.worker.onmessage = (e: MessageEvent<FromLane>) => this.received(e.data);
    this.worker.onerror = (e) => this.failed(e.message);
    // The lane thread must not keep a stopping node alive.
    this.worker.unref?.();
    // Nothing is in flight from an earlier thread: it stopped with no PTY to read.
    Atomics.store(this.inflight, INFLIGHT_BYTES, 0);
    this.ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
    const init: ToLane = { type: "init", port: channel.port2, wakeFd: fds[0]!, inflight: this.inflight.buffer as SharedArrayBuffer, ring: this.ring.buffer as SharedArrayBuffer };
    this.worker.postMessage(init, [channel.port2]);
    this.log("lane thread started (the node serves local attaches' terminals itself)");
  }

  /**
   * Asks the thread to leave its loop; its wake pipe and port are closed once it says it has (its
   * poll(2) uses the pipe until then). From this moment the next lane starts a new thread.
   */
  private stop(): void {
    const worker = this.worker!;
    const port = this.port!;
    const wakeRead = this.wakeRead;
    const wakeWrite = this.wakeWrite;
    this.worker = undefined;
    this.port = undefined;
    this.wakeRead = this.wakeWrite = -1;
    this.ring = new Uint8Array(0);
    const release = () => {
      worker.terminate();
      port.close();
      for (const fd of [wakeRead, wakeWrite]) {
        try {
          closeSync(fd);
        } catch {
          /* already closed */
        }
      }
    };
    worker.onmessage = (e: MessageEvent<FromLane>) => {
      if (e.data.type === "stopped") release();
    };
    worker.onerror = release;
    port.postMessage({ type: "quit" } satisfies ToLane);
    writeSome(wakeWrite, this.wakeByte);
    this.log(`lane thread stopped: no local attach for ${this.idleStop.ms / 1000} s (the next one starts it again)`);
  }

  /**
   * The lane thread died (a bug): nobody reads those terminals any more. Every lane's client
   * takes its terminal back over its socket, the main thread reads the PTYs again, and no new
   * lanes are opened.
   */
  private failed(why: string): void {
    this.log(`lane thread failed (${why}); attach clients continue over their sockets`);
    this.broken = true;
    // (A reading descriptor the thread had is left open: it may have closed it already, and its
    // number may be another's by now.)
    for (const { pty } of this.owned.values()) pty.takeReading();
    this.owned.clear();
    const open = [...this.lanes.values()];
    this.lanes.clear();
    for (const { events, fd, ptyFd } of open) {
      this.closeTerminal(fd);
      if (ptyFd !== undefined) closeSync(ptyFd);
      events.lagged();
    }
  }

  private send(m: ToLane): void {
    this.port!.postMessage(m);
    // The lane thread sleeps in poll(2): a byte on the pipe wakes it to read the port.
    writeSome(this.wakeWrite, this.wakeByte);
  }

  private received(m: FromLane): void {
    switch (m.type) {
      case "output": {
        const p = m.parts;
        for (let i = 0; i + 2 < p.length; i += 3) {
          // A view into the ring, valid while the listeners run (as Pty.onData says of any
          // chunk): the lane thread may reuse those bytes once they are freed.
          try {
            const own = this.owned.get(p[i]!);
            if (own) own.pty.received(this.ring.subarray(p[i + 1]!, p[i + 1]! + p[i + 2]!));
            else if (!this.toldLost) {
              // The thread posts a PTY's output before it gives the PTY up ("released", "ended"):
              // this should not happen. Said, so that a log shows where bytes went missing.
              this.toldLost = true;
              this.log(`lane: ${p[i + 2]} bytes of output came after their PTY was given back; they are not in the session's log (a bug: please report it)`);
            }
          } finally {
            Atomics.sub(this.inflight, INFLIGHT_BYTES, p[i + 2]!);
          }
        }
        return;
      }
      case "ended": {
        const own = this.owned.get(m.handle);
        this.owned.delete(m.handle);
        own?.pty.readerEnded();
        this.idleStop.check();
        return;
      }
      case "released": {
        // Only if no lane was opened on it meanwhile (that open is on its way to the thread).
        const own = this.owned.get(m.handle);
        if (!own || own.lanes > 0) return;
        this.owned.delete(m.handle);
        own.pty.takeReading();
        this.idleStop.check();
        return;
      }
      case "input":
        this.lanes.get(m.lane)?.events.input(m.bytes, m.at);
        return;
      case "keys":
        this.lanes.get(m.lane)?.events.keys?.(m.bytes);
        return;
      case "catchup": {
        const open = this.lanes.get(m.lane);
        if (open) this.send({ type: "caught-up", lane: m.lane, bytes: open.events.output(m.from, m.to) });
        return;
      }
      case "stopped":
        return; // a stopped thread's (stop() listens for it on its own)
      default: {
        // detach, hangup, lagged: the lane thread has closed the lane itself.
        const ev = this.lanes.get(m.lane)?.events;
        if (!ev || !this.forget(m.lane)) return;
        if (m.type === "detach") ev.detach();
        else if (m.type === "hangup") ev.hangup();
        else ev.lagged();
      }
    }
  }
}
