/**
 * A pseudo-terminal the benchmark owns, bound straight to libc through bun:ffi.
 *
 * The bench is the "terminal" here: it holds the master side, writes keystrokes into it and
 * reads whatever the program on the slave side prints, with blocking poll()/read() calls on
 * the main thread. That keeps the measuring side as thin as it gets: no event loop, no thread
 * hop, no buffering between the kernel and the clock.
 *
 * The child gets the slave as stdin/stdout/stderr and, through `setsid -c` (util-linux), a new
 * session with the slave as its controlling terminal, as a real terminal emulator would give.
 */
import { dlopen, FFIType, ptr, read as readMem } from "bun:ffi";

const libc = dlopen("libc.so.6", {
  openpty: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
}).symbols;

const F_SETFD = 2;
const FD_CLOEXEC = 1;
const POLLIN = 0x001;
const EINTR = 4;
const EAGAIN = 11;

function errno(): number {
  return readMem.i32(libc.__errno_location()!, 0);
}

export interface PtySpawn {
  cmd: string[];
  cols: number;
  rows: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export type ReadResult = { kind: "data"; n: number } | { kind: "timeout" } | { kind: "eof" };

export class BenchPty {
  readonly master: number;
  readonly proc: ReturnType<typeof Bun.spawn>;
  private readonly pfd = new Uint8Array(8);
  private readonly pfdView = new DataView(this.pfd.buffer);
  readonly buf = new Uint8Array(256 * 1024);
  private closed = false;

  constructor(opts: PtySpawn) {
    const fds = new Int32Array(2);
    const ws = new Uint16Array([opts.rows, opts.cols, 0, 0]);
    if (libc.openpty(ptr(fds), ptr(fds, 4), null, null, ptr(ws)) !== 0) throw new Error(`openpty failed (errno ${errno()})`);
    const [master, slave] = [fds[0]!, fds[1]!];
    // Neither end may leak into other children (a daemon keeping the slave open would hide EOF).
    libc.fcntl(master, F_SETFD, FD_CLOEXEC);
    libc.fcntl(slave, F_SETFD, FD_CLOEXEC);
    this.master = master;
    try {
      this.proc = Bun.spawn(["setsid", "-c", ...opts.cmd], {
        stdio: [slave, slave, slave],
        env: { ...process.env, TERM: "xterm-256color", ...opts.env } as Record<string, string>,
        cwd: opts.cwd,
      });
    } finally {
      // Only the child holds the slave now: when it (and its children) are gone, reads see EOF.
      libc.close(slave);
    }
    this.pfdView.setInt32(0, master, true);
    this.pfdView.setInt16(4, POLLIN, true);
  }

  /** Waits up to `timeoutMs` for output and reads what is there into `buf`. */
  read(timeoutMs: number): ReadResult {
    for (;;) {
      this.pfdView.setInt16(6, 0, true);
      const r = libc.poll(ptr(this.pfd), 1, Math.max(0, Math.round(timeoutMs)));
      if (r < 0) {
        if (errno() === EINTR) continue;
        throw new Error(`poll failed (errno ${errno()})`);
      }
      if (r === 0) return { kind: "timeout" };
      const n = Number(libc.read(this.master, ptr(this.buf), this.buf.length));
      if (n > 0) return { kind: "data", n };
      if (n === 0) return { kind: "eof" };
      const e = errno();
      if (e === EINTR || e === EAGAIN) continue;
      // EIO: every slave descriptor is closed, the program (and its children) are gone.
      return { kind: "eof" };
    }
  }

  write(bytes: Uint8Array | string): void {
    const b = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
    let off = 0;
    while (off < b.length) {
      const n = Number(libc.write(this.master, ptr(b, off), b.length - off));
      if (n < 0) {
        if (errno() === EINTR || errno() === EAGAIN) continue;
        throw new Error(`write to pty failed (errno ${errno()})`);
      }
      off += n;
    }
  }

  /** Reads and discards output until none arrives for `quietMs`, or `maxMs` passed. Returns bytes read. */
  drainQuiet(quietMs: number, maxMs = 5000): number {
    const until = performance.now() + maxMs;
    let total = 0;
    while (performance.now() < until) {
      const r = this.read(quietMs);
      if (r.kind !== "data") break;
      total += r.n;
    }
    return total;
  }

  /** Waits until some output arrived (or the deadline). True when it did. */
  waitOutput(maxMs: number): boolean {
    const r = this.read(maxMs);
    return r.kind === "data";
  }

  /**
   * Reads as fast as possible until EOF; returns the byte count. Throws when `deadline`
   * (a performance.now() value) passes first, when nothing arrives for `stallMs`, or when
   * `check` (called about five times a second) throws.
   */
  drainToEof(deadline: number, stallMs = 15_000, check?: () => void): number {
    let total = 0;
    let lastData = performance.now();
    let lastCheck = lastData;
    for (;;) {
      const now = performance.now();
      if (now >= deadline) throw new Error(`timed out draining the terminal after ${total} bytes`);
      if (now - lastData > stallMs) throw new Error(`output stalled: nothing for ${stallMs / 1000} s after ${total} bytes`);
      if (check && now - lastCheck > 200) {
        lastCheck = now;
        check();
      }
      const r = this.read(Math.min(deadline - now, 200));
      if (r.kind === "eof") return total;
      if (r.kind === "data") {
        total += r.n;
        lastData = performance.now();
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.proc.kill("SIGKILL");
    } catch {
      /* gone */
    }
    libc.close(this.master);
  }
}
