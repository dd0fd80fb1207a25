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
 * Linux only. Anything unexpected (no such registration, a different layout) means "cannot
 * pause", and the caller serves the terminal the ordinary way.
 */
import { readFileSync, readlinkSync } from "node:fs";
import { FFIType, ptr } from "bun:ffi";
import { openLibc } from "../../sys/libc";
import { openFds, ptyIdentity } from "./master-fd";

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLLIN = 0x1;

type EpollCtl = (epfd: number, op: number, fd: number, event: Uint8Array | null) => number;
let epollCtl: EpollCtl | null | undefined;
function ctl(): EpollCtl | null {
  if (epollCtl !== undefined) return epollCtl;
  const c = openLibc({ epoll_ctl: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
  epollCtl = c && ((epfd, op, fd, event) => c.fn.epoll_ctl!(epfd, op, fd, event ? ptr(event) : null) as number);
  return epollCtl;
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

/**
 * What names the open file behind `fd` (ptyIdentity: which PTY), or undefined when the
 * descriptor is closed. Bun closes its reader once it read the PTY's end, and the number may
 * then be another file's: adding that back would hand Bun's loop events of a file it does not
 * know, with a pointer to what it freed.
 */
function identity(fd: number): string | undefined {
  const id = ptyIdentity(fd);
  return id && `${id.ino}:${id.index}`;
}

/** One PTY's read registration in Bun's event loop, which can be paused and resumed. */
export class EpollReader {
  private reg?: Registration;
  private paused = false;
  /** The reader's open file when it was paused (identity()). */
  private pausedFile?: string;

  /** `fds`: the descriptors Bun opened for the PTY's master (one of them is its reader). */
  constructor(private readonly fds: readonly number[]) {}

  /** Whether this platform can pause at all (Linux with libc). */
  static supported(): boolean {
    return process.platform === "linux" && ctl() !== null;
  }

  /** The master descriptor the event loop reads (to dup for the other reader), or -1. */
  readerFd(): number {
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
    const file = identity(reg.fd);
    if (!file) return false;
    if (c(reg.epfd, EPOLL_CTL_DEL, reg.fd, null) !== 0) return false;
    this.paused = true;
    this.pausedFile = file;
    return true;
  }

  /**
   * Lets the event loop read the PTY again (output that waits is reported at once), unless Bun
   * closed its reader meanwhile (it read the end: see identity()).
   */
  resume(): void {
    if (!this.paused || !this.reg) return;
    this.paused = false;
    if (identity(this.reg.fd) !== this.pausedFile) return;
    const event = new Uint8Array(EVENT_SIZE);
    const view = new DataView(event.buffer);
    view.setUint32(0, this.reg.events, true);
    view.setBigUint64(DATA_OFFSET, this.reg.data, true);
    // EEXIST would mean Bun registered it again itself: then it reads already.
    ctl()?.(this.reg.epfd, EPOLL_CTL_ADD, this.reg.fd, event);
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
