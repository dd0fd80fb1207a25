/**
 * The lane thread: the keystroke path of a local `cw attach`, in a blocking poll(2) loop.
 *
 * Why a thread of its own outside the event loop: each wake-up of Bun's event loop costs
 * ~0.1-0.4 ms on a small VM, with a long tail (the benchmark's "bun floor" and "poll floor"
 * rows). tmux's server reads the user's terminal, writes the pane and writes the echo back with
 * no process or event loop in between; this thread does the same for terminals whose client
 * asked for it: it reads the keys from the user's terminal, writes them into the session's PTY,
 * waits for the echo (in poll(2) on the PTY's master for Bun's PTY; spinning on bun-pty's channel
 * for bun-pty) and writes it straight to the terminal. The main
 * thread still logs every byte, feeds the screen and serves every other viewer, from the output
 * ring this thread reads into (off the echo's path, a moment later: see `held`).
 *
 * While a lane is open, this thread is the only reader of its session's PTY (the main thread gave
 * its reading up: bun-pty's poller, or Bun's epoll registration), so output reaches main in order,
 * from one place. (Bun reads the PTY once more when its program exits: it then finds a placeholder
 * under its reader's number, and reads nothing of the PTY: pty/epoll-reader.ts.)
 */
import { closeSync } from "node:fs";
import { FFIType, ptr } from "bun:ffi";
import { receiveMessageOnPort } from "node:worker_threads";
import { DetachKeys } from "../../protocol/detach-keys";
import { EAGAIN, EINTR, openLibc, writeSome, yieldCpu } from "../../sys/libc";
import { native, READ_EXITED, READ_NONE } from "../pty/native";
import { type FromLane, INFLIGHT_BYTES, type ToLane } from "./messages";
import { normalJit } from "../../sys/jit";

declare const self: Worker;
// This thread carries every keystroke: the JIT as eager as usual (sys/jit.ts).
normalJit();

// What sys/libc does not offer: poll(2), and read(2) into a buffer we keep.
const c = openLibc({
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
});
if (!c) throw new Error("the lane thread needs libc");
const libc = c.fn;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;

/** After input or output, poll without sleeping for this long (the echo is on its way). */
const HOT_MS = 30;
/** A lone Escape (or half a sequence) after Ctrl+B is let through after this long. */
const ESC_TIMEOUT_MS = 50;
/** Per PTY per turn, so a flood cannot starve the terminals' input. */
const MAX_PER_TURN = 1024 * 1024;
/** A terminal this far behind is handed back to the main thread, which repaints it (lagged). */
const LAG_LIMIT = 4 * 1024 * 1024;
/**
 * The same for a lane on Bun's PTY, sooner: the main thread then serves that terminal itself (a
 * direct terminal, direct.ts), which lets a slow terminal read the log at its own pace instead
 * of holding copies here (an attached flood's node peaked 6 MiB higher with the 4 MiB limit).
 */
const DIRECT_LAG_LIMIT = 256 * 1024;

interface Lane {
  id: number;
  fd: number;
  handle: number;
  keys: DetachKeys;
  /** Output the terminal has not taken yet. */
  queue: Uint8Array[];
  queued: number;
  /** When the detach keys began holding bytes back. */
  heldAt: number;
  /** Bytes typed and not yet reported to the main thread (see reportInput). */
  typed: number;
  /** When the last of them was typed (epoch ms, comparable across threads). */
  typedAt: number;
  /** Live output held back until the main thread sends what came before it (see "catchup"). */
  behind?: Uint8Array[];
  /**
   * A keys lane (open-keys): no output here, keys go to this PTY master descriptor with write(2);
   * undefined for a lane on a bun-pty handle.
   */
  ptyFd?: number;
  /** A keys lane's PTY was once full: its keys now go through the main thread (message "keys"). */
  viaMain?: boolean;
  /** When (performance.now) a keys lane last had keys, for reporting them after the echo. */
  typedNow?: number;
}

// The same library the main thread opened (dlopen of one path is one instance, also for the
// copy a compiled binary extracts): its handles are the sessions' handles. Opened with the first
// lane on a bun-pty terminal ("open"): keys lanes (Bun's own PTY, the default) never need it, and
// loading it made a compiled node extract the library to /tmp and map it at every first attach.
let pty: ReturnType<typeof native> | undefined;
const lanes = new Map<number, Lane>();
/** Set by "quit": the loop ends after this turn. */
let quitting = false;
/** The lanes as a list for the poll set, rebuilt when one opens or closes, not on every turn. */
let laneList: Lane[] = [];
const relist = () => {
  laneList = [...lanes.values()];
};
/** The PTYs this thread reads, and the lanes each one serves. */
const readers = new Map<number, Set<Lane>>();
/**
 * The PTYs among them read with read(2) (Bun's PTY): the master descriptor, this thread's own.
 * The others are bun-pty's, read through its handle.
 */
const readFds = new Map<number, number>();
/** The masters poll(2) reported readable (or hung up) in this turn. */
const readyMasters = new Set<number>();
/** Whether any PTY is read through bun-pty (whose channel can only be polled on a timer). */
const pollsNative = () => readers.size > readFds.size;
/**
 * Per PTY, the session's log offset of the next byte this thread reads from it. Its output
 * reaches the main thread's log a moment later: a lane opened meanwhile is painted up to an
 * earlier offset, and is owed the difference.
 */
const readTo = new Map<number, number>();
/** At most this much per read(2). */
const READ_SIZE = 64 * 1024;
/**
 * The output ring (shared with the main thread, messages.ts): PTYs are read straight into it and
 * the main thread is told where each chunk lies. Output needs no buffer of its own per chunk (a
 * fresh 64 KiB buffer for every read of a flood, freed on the other thread, kept an attached
 * flood's node 8 MiB larger). `ringAt` is where the next read goes; the main thread frees the
 * ring in order, so what is in use is the `inflight` bytes before it.
 */
let ring: Uint8Array;
let ringAt = 0;

/** Room for the next read, in one piece; 0 when the main thread has not caught up. */
function ringRoom(): number {
  return Math.min(READ_SIZE, ring.length - Atomics.load(inflight, INFLIGHT_BYTES), ring.length - ringAt);
}
const inBuf = new Uint8Array(16 * 1024);
const wakeBuf = new Uint8Array(256);
let pollfds = new Int32Array(2 * 8);
let port: MessagePort;
let wakeFd = -1;
let inflight: Int32Array;
let lastActivity = 0;
let lastInput = Number.NEGATIVE_INFINITY;
/** Whether the last turn of the loop read output (then the next looks again at once). */
let outputLastTurn = false;

/**
 * Output of PTYs read with read(2) (Bun's PTY) not yet posted to the main thread, as (handle,
 * ring offset, length) triples: posted together in one message after a moment. Each message
 * wakes the main thread:
 * - right after a key, while the user's terminal is still taking the echo in (measured with the
 *   latency benchmark, posting at once cost canonical-mode echo ~50 µs at p50: 332 against 279 µs
 *   with no post at all), so a key's echo goes ECHO_POST_DELAY_MS later;
 * - for every redraw of every attached agent's spinner (ten at 10 Hz: a hundred wakes a second,
 *   the main thread's largest cost with them attached), so other output goes POST_DELAY_MS later,
 *   in one message for all of it. Nothing that waits for output is that quick: the screen is fed
 *   250 ms late (screen/screens.ts), and other viewers of the session see it 20 ms late.
 * Sooner when much is held (a flood). Anything else this thread posts goes after it, in order.
 */
let held: number[] = [];
let heldBytes = 0;
/** When the held output goes (performance.now). */
let heldUntil = Number.POSITIVE_INFINITY;
/** When a key last went to a PTY read with read(2): output within HOT_MS of it is an echo. */
let lastKeys = Number.NEGATIVE_INFINITY;
const ECHO_POST_DELAY_MS = 1;
const POST_DELAY_MS = 20;
const HOLD_LIMIT = 64 * 1024;

function postHeld(): void {
  const parts = held;
  held = [];
  heldBytes = 0;
  heldUntil = Number.POSITIVE_INFINITY;
  self.postMessage({ type: "output", parts } satisfies FromLane);
}

const post = (m: FromLane, transfer: ArrayBuffer[] = []) => {
  if (held.length) postHeld();
  self.postMessage(m, transfer);
};

/** Output for the main thread: at once from bun-pty, held a moment from Bun's PTY (see held). */
function postOutput(handle: number, at: number, length: number): void {
  if (!readFds.has(handle)) return post({ type: "output", parts: [handle, at, length] });
  const now = performance.now();
  heldUntil = Math.min(heldUntil, now + (now - lastKeys < HOT_MS ? ECHO_POST_DELAY_MS : POST_DELAY_MS));
  held.push(handle, at, length);
  heldBytes += length;
  if (heldBytes >= HOLD_LIMIT) postHeld();
}

function errno(): number {
  return c!.errno();
}

/** write(2) once, non-blocking: bytes taken, or -1 when the terminal is full, -2 when it failed. */
function writeTerminal(fd: number, bytes: Uint8Array): number {
  try {
    const n = writeSome(fd, bytes);
    return n === -EAGAIN ? -1 : n;
  } catch {
    return -2;
  }
}

/** Sends output to a lane's terminal: at once when nothing is queued, else after the queue. */
function deliver(lane: Lane, bytes: Uint8Array): void {
  if (lane.behind) {
    lane.behind.push(bytes.slice());
    return;
  }
  if (lane.queued === 0) {
    const n = writeTerminal(lane.fd, bytes);
    if (n === -2) return hangup(lane);
    if (n === bytes.length) return;
    bytes = bytes.slice(Math.max(0, n));
  } else {
    bytes = bytes.slice();
  }
  lane.queue.push(bytes);
  lane.queued += bytes.length;
  if (lane.queued > (lane.ptyFd === undefined ? LAG_LIMIT : DIRECT_LAG_LIMIT)) {
    post({ type: "lagged", lane: lane.id });
    closeLane(lane, false);
  }
}

function flushQueue(lane: Lane): void {
  while (lane.queue.length) {
    const head = lane.queue[0]!;
    const n = writeTerminal(lane.fd, head);
    if (n === -2) return hangup(lane);
    if (n < 0) return;
    lane.queued -= n;
    if (n === head.length) lane.queue.shift();
    else {
      lane.queue[0] = head.subarray(n);
      return;
    }
  }
}

function writeToProgram(lane: Lane, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  if (lane.ptyFd === undefined) {
    pty!.bun_pty_write(lane.handle, ptr(bytes), bytes.length);
    lastActivity = lastInput = performance.now();
    return;
  }
  // A keys lane: the echo comes back through the main thread's event loop, so nothing to spin for.
  lane.typedNow = lastKeys = performance.now();
  if (!lane.viaMain) {
    let n: number;
    try {
      n = writeSome(lane.ptyFd, bytes);
    } catch {
      return; // the program is gone (EIO); the main thread ends the session
    }
    if (n === bytes.length) return;
    bytes = bytes.subarray(n === -EAGAIN ? 0 : n);
    lane.viaMain = true;
  }
  post({ type: "keys", lane: lane.id, bytes: bytes.slice() });
}

function hangup(lane: Lane): void {
  if (!lanes.has(lane.id)) return;
  post({ type: "hangup", lane: lane.id });
  closeLane(lane, false);
}

/** Stops serving a lane; the last lane of a PTY gives the PTY back to the main thread. */
function closeLane(lane: Lane, flush: boolean): void {
  if (!lanes.has(lane.id)) return;
  reportInput(lane);
  lanes.delete(lane.id);
  relist();
  if (flush) flushQueue(lane);
  closeSync(lane.fd);
  if (lane.ptyFd !== undefined) closeSync(lane.ptyFd);
  const set = readers.get(lane.handle);
  if (!set) return; // the program has ended: nothing to give back
  set.delete(lane);
  if (set.size === 0) {
    stopReading(lane.handle);
    post({ type: "released", handle: lane.handle });
  }
}

/** This thread no longer reads the PTY `handle`. */
function stopReading(handle: number): void {
  readers.delete(handle);
  const fd = readFds.get(handle);
  if (fd === undefined) return;
  readFds.delete(handle);
  closeSync(fd);
}

function command(m: ToLane): void {
  if (m.type === "open") {
    if (m.ptyFd === undefined) pty ??= native();
    const lane: Lane = { id: m.lane, fd: m.fd, handle: m.handle, keys: new DetachKeys(), queue: [], queued: 0, heldAt: 0, typed: 0, typedAt: 0, ...(m.ptyFd !== undefined ? { ptyFd: m.ptyFd } : {}) };
    lanes.set(lane.id, lane);
    relist();
    if (m.readFd !== undefined) {
      // Kept when this thread has none for the PTY: its first lane, or the PTY's last lane closed
      // here a moment ago (lagged, hung up) and "released" crossed this open on its way.
      if (readFds.has(m.handle)) closeSync(m.readFd);
      else readFds.set(m.handle, m.readFd);
    }
    let set = readers.get(m.handle);
    if (!set) readers.set(m.handle, (set = new Set()));
    set.add(lane);
    if (m.paint.length) deliver(lane, m.paint);
    // Output read before this lane opened but not yet logged by the main thread is in no paint:
    // ask for it, and hold live output back until it is here (the main thread logs in order).
    const at = m.fresh ? m.offset : Math.max(readTo.get(m.handle) ?? m.offset, m.offset);
    readTo.set(m.handle, at);
    if (at > m.offset) {
      lane.behind = [];
      post({ type: "catchup", lane: lane.id, from: m.offset, to: at });
    }
    lastActivity = performance.now();
  } else if (m.type === "open-keys") {
    lanes.set(m.lane, { id: m.lane, fd: m.fd, handle: -1, ptyFd: m.ptyFd, keys: new DetachKeys(), queue: [], queued: 0, heldAt: 0, typed: 0, typedAt: 0 });
    relist();
  } else if (m.type === "caught-up") {
    const lane = lanes.get(m.lane);
    if (!lane?.behind) return;
    const held = lane.behind;
    lane.behind = undefined;
    deliver(lane, m.bytes);
    for (const bytes of held) if (lanes.has(lane.id)) deliver(lane, bytes);
  } else if (m.type === "typed") {
    if (readFds.has(m.handle)) lastKeys = performance.now();
  } else if (m.type === "write") {
    const lane = lanes.get(m.lane);
    if (lane) deliver(lane, m.bytes);
  } else if (m.type === "close") {
    const lane = lanes.get(m.lane);
    if (lane) closeLane(lane, true);
  } else if (m.type === "quit") {
    quitting = true;
  }
}

/**
 * Messages the wake pipe announced (one byte each) that the port has not given us yet: a message
 * may reach the port a moment after its byte reached the pipe, so they are asked for again on
 * every turn until they came. Negative while messages came before their bytes (the main thread
 * posts, then writes the byte): those bytes then owe nothing. Clamped at zero instead, as it was,
 * a burst of attaches could leave it at 1 for good, and the thread polled every millisecond
 * (ten attached spinners: 4.8-5.3% of a core in some runs, 1.9% in others).
 */
let owed = 0;

function readCommands(): void {
  for (;;) {
    const n = Number(libc.read!(wakeFd, ptr(wakeBuf), wakeBuf.length));
    if (n <= 0) break;
    owed += n;
  }
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    owed--;
    command(m.message as ToLane);
  }
}

/** A lane's terminal has input: the keys go to the program, Ctrl+B d detaches. */
function readKeys(lane: Lane): void {
  const n = Number(libc.read!(lane.fd, ptr(inBuf), inBuf.length));
  if (n < 0 && (errno() === EAGAIN || errno() === EINTR)) return;
  if (n <= 0) return hangup(lane);
  // The program has ended (the main thread is closing this lane): its handle may be reused.
  if (lane.ptyFd === undefined && !readers.has(lane.handle)) return;
  const r = lane.keys.feed(inBuf.subarray(0, n));
  writeToProgram(lane, r.forward);
  lane.typed += r.forward.length;
  lane.typedAt = performance.timeOrigin + performance.now();
  if (r.detach) {
    reportInput(lane);
    post({ type: "detach", lane: lane.id });
    closeLane(lane, true);
    return;
  }
  if (lane.keys.holding) lane.heldAt = performance.now();
}

/**
 * Tells the main thread how much was typed (for session.input events, which it sums over a
 * second anyway). Not per keystroke: a message wakes the main thread, which would then compete
 * for the CPU with the program producing the echo. Reported once the echo's hot period is over.
 */
function reportInput(lane: Lane): void {
  if (lane.typed === 0) return;
  post({ type: "input", lane: lane.id, bytes: lane.typed, at: lane.typedAt });
  lane.typed = 0;
}

/** Output of every PTY this thread reads: to its lanes' terminals at once, then to the main thread. */
function readOutput(): boolean {
  let any = false;
  for (const [handle, set] of readers) {
    const fd = readFds.get(handle);
    // A master poll(2) did not report has nothing: one read(2) less per PTY and turn (with ten
    // attached spinners, 10 of every 11 reads found nothing).
    if (fd !== undefined && !readyMasters.has(fd)) continue;
    let got = 0;
    while (got < MAX_PER_TURN) {
      const room = ringRoom();
      if (room === 0) return any || got > 0;
      const at = ringAt;
      const n = fd === undefined ? pty!.bun_pty_read(handle, ptr(ring, at), room) : readMaster(fd, at, room);
      if (n > 0) {
        const chunk = ring.subarray(at, at + n);
        ringAt = at + n === ring.length ? 0 : at + n;
        readTo.set(handle, (readTo.get(handle) ?? 0) + n);
        // For the main thread before the terminals: a terminal that lags or hangs up here closes
        // its lane, and when that was the PTY's last, "released" goes out at once and the main
        // thread reads the PTY again. Queued after that, this chunk would reach a PTY no longer
        // given away and be dropped: the log lost it (~4 KiB at every lane-to-direct handover).
        // Posting flushes what is held first, so it goes out before "lagged" and "released".
        Atomics.add(inflight, INFLIGHT_BYTES, n);
        postOutput(handle, at, n);
        // (What a terminal cannot take at once, deliver copies: this part of the ring is reused
        // only after the main thread is done with it.)
        for (const lane of set) deliver(lane, chunk);
        got += n;
        // Its last lane may have just gone (a terminal that hung up or lagged): the PTY is the
        // main thread's again, and two readers would split its output.
        if (!readers.has(handle)) break;
        continue;
      }
      if (n === READ_EXITED || (n < 0 && n !== READ_NONE)) {
        // The main thread ends the session and closes its lanes; nothing more to read here.
        stopReading(handle);
        readTo.delete(handle);
        post({ type: "ended", handle });
      }
      break;
    }
    if (got > 0) any = true;
  }
  return any;
}

/**
 * One read(2) of a PTY master, in bun_pty_read's terms: bytes read, READ_NONE when there is
 * nothing now, READ_EXITED at the end (EIO once every holder of the terminal closed it).
 */
function readMaster(fd: number, at: number, room: number): number {
  const n = Number(libc.read!(fd, ptr(ring, at), room));
  if (n > 0) return n;
  if (n < 0 && (errno() === EAGAIN || errno() === EINTR)) return READ_NONE;
  return READ_EXITED;
}

/** How long poll(2) may sleep: not at all right after activity, longer the quieter it gets. */
function pollTimeout(now: number): number {
  if (owed > 0) return 1;
  let ms = -1;
  // Bun's PTYs wake poll(2) themselves; bun-pty's channel has to be looked at.
  if (pollsNative()) {
    // Spin (a zero timeout) only for a keystroke's echo, never for output alone: a spinner
    // redrawing at 10 Hz kept this thread busy half of a core. A turn that read output is
    // followed at once, so a flood drains without pause.
    const idle = now - lastActivity;
    ms = now - lastInput < HOT_MS || outputLastTurn ? 0 : idle < 250 ? 1 : idle < 2000 ? 4 : 10;
  }
  for (const lane of lanes.values()) {
    if (lane.typed > 0 && lane.typedNow !== undefined) {
      const left = Math.max(0, Math.ceil(lane.typedNow + HOT_MS - now));
      ms = ms < 0 ? left : Math.min(ms, left);
    }
    if (!lane.keys.holding) continue;
    const left = Math.max(0, Math.ceil(lane.heldAt + ESC_TIMEOUT_MS - now));
    ms = ms < 0 ? left : Math.min(ms, left);
  }
  return ms;
}

function loop(): void {
  for (;;) {
    const now = performance.now();
    const list = laneList;
    // The PTY masters too, unless too much output waits for the main thread (then they are
    // looked at on a timer, as readOutput reads nothing until it has caught up).
    const backlog = ringRoom() === 0;
    const masters = backlog ? 0 : readFds.size;
    const count = 1 + list.length + masters;
    if (pollfds.length < 2 * count) pollfds = new Int32Array(4 * count);
    pollfds[0] = wakeFd;
    pollfds[1] = POLLIN;
    list.forEach((lane, i) => {
      pollfds[2 + 2 * i] = lane.fd;
      pollfds[3 + 2 * i] = POLLIN | (lane.queued > 0 ? POLLOUT : 0);
    });
    if (masters > 0) {
      let i = 1 + list.length;
      for (const fd of readFds.values()) {
        pollfds[2 * i] = fd;
        pollfds[2 * i + 1] = POLLIN;
        i++;
      }
    }
    let timeout = pollTimeout(now);
    if (held.length) {
      const left = Math.max(0, Math.ceil(heldUntil - now));
      timeout = timeout < 0 ? left : Math.min(timeout, left);
    }
    const ready = libc.poll!(ptr(pollfds), count, backlog && readFds.size > 0 && (timeout < 0 || timeout > 1) ? 1 : timeout) as number;
    if (owed > 0 || (ready > 0 && pollfds[1]! >>> 16)) readCommands();
    if (quitting) return;
    readyMasters.clear();
    for (let i = 1 + list.length; i < count; i++) if (pollfds[2 * i + 1]! >>> 16) readyMasters.add(pollfds[2 * i]!);
    if (ready > 0) {
      list.forEach((lane, i) => {
        const revents = pollfds[3 + 2 * i]! >>> 16;
        if (!revents || !lanes.has(lane.id)) return;
        if (revents & POLLOUT) flushQueue(lane);
        if (revents & POLLIN) readKeys(lane);
        else if (revents & (POLLERR | POLLHUP | POLLNVAL)) hangup(lane);
      });
    }
    const t = performance.now();
    for (const lane of lanes.values()) {
      if (!lane.keys.holding || t - lane.heldAt < ESC_TIMEOUT_MS) continue;
      const held = lane.keys.flushPending();
      if (lane.ptyFd !== undefined || readers.has(lane.handle)) writeToProgram(lane, held);
    }
    for (const lane of lanes.values()) if (t - (lane.typedNow ?? lastInput) >= HOT_MS) reportInput(lane);
    const got = readOutput();
    outputLastTurn = got;
    if (held.length && performance.now() >= heldUntil) postHeld();
    if (got) lastActivity = performance.now();
    // Right after a keystroke the echo is being produced by bun-pty's threads and the program:
    // an empty turn hands them this CPU rather than spinning on it (see pty/poller.ts).
    else if (ready === 0 && t - lastInput < HOT_MS) yieldCpu();
  }
}

self.onmessage = (e: MessageEvent<ToLane>) => {
  const m = e.data;
  if (m.type !== "init") return;
  port = m.port;
  wakeFd = m.wakeFd;
  inflight = new Int32Array(m.inflight);
  ring = new Uint8Array(m.ring);
  self.onmessage = null;
  loop();
  // Quit: the main thread closes the wake pipe and the port, and ends this worker.
  post({ type: "stopped" });
};
