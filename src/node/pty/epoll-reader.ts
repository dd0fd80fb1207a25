/**
 * Pausing the event loop's reading of a PTY that Bun.Terminal opened, so that another thread (the
 * lane thread, lane/worker.ts) can be its only reader while a local `cw attach` is served.
 *
 * Why: in canonical mode (plain `cat`, `read`, a password prompt) the kernel echoes a key as soon
 * as it is written to the PTY. When one thread writes the key and another (the event loop) reads
 * the echo, the second has to wake from idle for it: canonical echo p50 was 1.35-1.5x tmux's,
 * whose server does both on one thread. Bun.Terminal has no pause, and two readers would split
 * the output between them.
 *
 * How: Bun's loop watches the PTY with one epoll registration (EPOLLIN|EPOLLHUP|EPOLLERR,
 * EPOLLONESHOT, re-armed with EPOLL_CTL_MOD after each read; seen with strace). Pausing deletes
 * that registration, resuming adds it back exactly as it was (events and data, read from
 * /proc/self/fdinfo of the epoll descriptor); output that came meanwhile is reported at once on
 * the add. A registration is only deleted while it is armed: a disarmed one means its event was
 * taken by epoll_wait and is about to be handled in this turn of the loop (Bun then reads and
 * re-arms, which must not find it gone). epoll_wait runs on this thread only, so nothing can
 * disarm it between the look and the delete.
 *
 * Bun also reads the PTY once more when its program exits, registered or not: it drains the
 * reader until the end. While paused, that drain would race the other reader for the last output
 * and split it between them (a chunk of it then reached the log out of place: 5 in 25 runs of an
 * attached `seq 1 30000` that then exited). So while paused, the reader's descriptor number
 * refers to a placeholder instead: an empty pipe whose writing end is closed, which reads as the
 * end at once. Bun's drain at the exit then reads nothing of the PTY (it takes the end, and
 * closes the placeholder as its reader), and the other reader reads it all, in order. Resuming
 * puts the PTY back under that number (dup3) first, unless Bun closed it meanwhile.
 *
 * Linux only. Anything unexpected (no such registration, a different layout) means "cannot
 * pause", and the caller serves the terminal the ordinary way.
 */
import { closeSync, fstatSync, readFileSync, readlinkSync } from "node:fs";
import { FFIType, ptr } from "bun:ffi";
import { openLibc } from "../../sys/libc";
import { openFds, ptyIdentity } from "./master-fd";

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLLIN = 0x1;
const O_CLOEXEC = 0o2000000;
const F_DUPFD_CLOEXEC = 1030;

interface Calls {
  epollCtl(epfd: number, op: number, fd: number, event: Uint8Array | null): number;
  pipe2(fds: Int32Array, flags: number): number;
  dup3(from: number, to: number, flags: number): number;
  /** A new descriptor (close-on-exec) for what `fd` refers to, or -1. */
  dupCloexec(fd: number): number;
}
let calls: Calls | null | undefined;
function ctl(): Calls | null {
  if (calls !== undefined) return calls;
  const c = openLibc({
    epoll_ctl: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    dup3: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  });
  calls = c && {
    epollCtl: (epfd, op, fd, event) => c.fn.epoll_ctl!(epfd, op, fd, event ? ptr(event) : null) as number,
    pipe2: (fds, flags) => c.fn.pipe2!(ptr(fds), flags) as number,
    dup3: (from, to, flags) => c.fn.dup3!(from, to, flags) as number,
    dupCloexec: (fd) => c.fn.fcntl!(fd, F_DUPFD_CLOEXEC, 0) as number,
  };
  return calls;
}

function closeQuietly(fd: number): void {
  if (fd < 0) return;
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** Whether `a` and `b` are open on the same file (device and inode). */
function sameFile(a: number, b: number): boolean {
  try {
    const x = fstatSync(a);
    const y = fstatSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** struct epoll_event: packed on x86-64 (12 bytes), naturally aligned elsewhere (16). */
const EVENT_SIZE = process.arch === "x64" ? 12 : 16;
const DATA_OFFSET = process.arch === "x64" ? 4 : 8;

interface Registration {
  epfd: number;
  fd: number;
  events: number;
  data: bigint;
}

/** The epoll registrations of `fds` in this process's epoll descriptors, as fdinfo shows them. */
function registrations(fds: readonly number[]): Registration[] {
  const found: Registration[] = [];
  for (const entry of openFds() ?? []) {
    let info: string;
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) !== "anon_inode:[eventpoll]") continue;
      info = readFileSync(`/proc/self/fdinfo/${entry}`, "utf8");
    } catch {
      continue;
    }
    for (const m of info.matchAll(/tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)\s+data:\s*([0-9a-f]+)/g)) {
      const fd = Number(m[1]);
      if (fds.includes(fd)) found.push({ epfd: Number(entry), fd, events: Number.parseInt(m[2]!, 16), data: BigInt(`0x${m[3]}`) });
    }
  }
  return found;
}

function eventOf(reg: Registration): Uint8Array {
  const event = new Uint8Array(EVENT_SIZE);
  const view = new DataView(event.buffer);
  view.setUint32(0, reg.events, true);
  view.setBigUint64(DATA_OFFSET, reg.data, true);
  return event;
}

/** One PTY's read registration in Bun's event loop, which can be paused and resumed. */
export class EpollReader {
  private reg?: Registration;
  private paused = false;
  /** While paused: the PTY, under a number of our own (the reader's number is the placeholder's). */
  private saved = -1;
  /** While paused: the placeholder (see the top), kept open so that it stays recognisable. */
  private placeholder = -1;

  /** `fds`: the descriptors Bun opened for the PTY's master (one of them is its reader). */
  constructor(private readonly fds: readonly number[]) {}

  /** Whether this platform can pause at all (Linux with libc). */
  static supported(): boolean {
    return process.platform === "linux" && ctl() !== null;
  }

  /** A descriptor of the master the event loop reads (to dup for the other reader), or -1. */
  readerFd(): number {
    if (this.paused) return this.saved;
    return this.find()?.fd ?? -1;
  }

  /**
   * Stops the event loop reading the PTY. False when it cannot now: no registration found, or
   * its event is being handled in this turn of the loop (try again on a later turn).
   */
  pause(): boolean {
    if (this.paused) return true;
    const c = ctl();
    const reg = this.find();
    if (!c || !reg) return false;
    // Armed or not, as it is now (the kept copy has the events to restore).
    const now = registrations([reg.fd]).find((r) => r.epfd === reg.epfd && r.data === reg.data);
    if (!now || !(now.events & EPOLLIN)) return false;
    // A PTY's master, or a layout this code does not know.
    if (!ptyIdentity(reg.fd)) return false;
    const ends = new Int32Array(2);
    if (c.pipe2(ends, O_CLOEXEC) !== 0) return false;
    closeQuietly(ends[1]!);
    const placeholder = ends[0]!;
    const saved = c.dupCloexec(reg.fd);
    if (saved < 0) {
      closeQuietly(placeholder);
      return false;
    }
    if (c.epollCtl(reg.epfd, EPOLL_CTL_DEL, reg.fd, null) !== 0) {
      closeQuietly(saved);
      closeQuietly(placeholder);
      return false;
    }
    if (c.dup3(placeholder, reg.fd, O_CLOEXEC) < 0) {
      // The number still refers to the PTY: Bun reads it as before.
      c.epollCtl(reg.epfd, EPOLL_CTL_ADD, reg.fd, eventOf(reg));
      closeQuietly(saved);
      closeQuietly(placeholder);
      return false;
    }
    this.paused = true;
    this.saved = saved;
    this.placeholder = placeholder;
    return true;
  }

  /**
   * Lets the event loop read the PTY again (output that waits is reported at once), unless Bun
   * closed its reader meanwhile (it read the end at the placeholder). The number may then be
   * another file's: adding that back would hand Bun's loop events of a file it does not know,
   * with a pointer to what it freed.
   */
  resume(): void {
    if (!this.paused || !this.reg) return;
    const reg = this.reg;
    const c = ctl();
    // The PTY goes back under the reader's number only while that number still refers to the
    // placeholder: Bun closes it once it read the end there (at the program's exit).
    const back = c !== null && sameFile(reg.fd, this.placeholder) && c.dup3(this.saved, reg.fd, O_CLOEXEC) >= 0;
    this.release();
    if (!back) return;
    // EEXIST would mean Bun registered it again itself: then it reads already.
    c!.epollCtl(reg.epfd, EPOLL_CTL_ADD, reg.fd, eventOf(reg));
  }

  /**
   * Ends a pause without resuming: the event loop will never read this PTY again (its program
   * is over). The reader's number stays the placeholder's until Bun closes it.
   */
  release(): void {
    if (!this.paused) return;
    this.paused = false;
    closeQuietly(this.saved);
    closeQuietly(this.placeholder);
    this.saved = this.placeholder = -1;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The reader's registration, found once while armed (a disarmed one does not say it reads). */
  private find(): Registration | undefined {
    if (this.reg) return this.reg;
    const readers = registrations(this.fds).filter((r) => r.events & EPOLLIN);
    // Exactly one: anything else is a layout this code does not know.
    if (readers.length === 1) this.reg = readers[0];
    return this.reg;
  }
}
