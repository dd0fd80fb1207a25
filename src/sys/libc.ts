/**
 * The few libc calls cw needs directly, through bun:ffi.
 *
 * Why not node:tty / node:fs / process.stdout: in a compiled Bun binary, loading node:tty costs
 * ~3 ms and node:fs ~1 ms at start-up, while opening libc costs ~0.3 ms. For a command such as
 * `cw list`, whose whole run should take a few milliseconds, that is the difference that
 * matters. Everything here is loaded on first use.
 */
import { dlopen, FFIType, read } from "bun:ffi";
import { builtin } from "./builtin";

const LIBC_NAMES =
  process.platform === "darwin"
    ? ["libSystem.B.dylib"]
    : ["libc.so.6", `libc.musl-${process.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`, "libc.so"];

const ERRNO_SYMBOL = process.platform === "darwin" ? "__error" : "__errno_location";

type Fn = (...a: unknown[]) => unknown;

/** `s` as a NUL-terminated C string. */
export function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

/**
 * Opens libc with `symbols` (plus errno's location), trying each name the C library goes by;
 * null where none opens. A caller opens only the symbols it needs: each one costs a little at
 * start-up.
 */
export function openLibc(symbols: Record<string, { args: FFIType[]; returns: FFIType }>): { fn: Record<string, Fn>; errno(): number } | null {
  for (const name of LIBC_NAMES) {
    try {
      const fn = dlopen(name, { ...symbols, [ERRNO_SYMBOL]: { args: [], returns: FFIType.ptr } }).symbols as unknown as Record<string, Fn>;
      const errnoPtr = fn[ERRNO_SYMBOL]!;
      return { fn, errno: () => read.i32(errnoPtr() as never, 0) };
    } catch {
      /* try the next name */
    }
  }
  return null;
}

type Libc = {
  isatty(fd: number): number;
  write(fd: number, buf: Uint8Array, len: number): number | bigint;
  read(fd: number, buf: Uint8Array, len: number): number | bigint;
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  sched_yield(): number;
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  close(fd: number): number;
  errno(): number;
};

let cached: Libc | null | undefined;

/**
 * libc, or null where it cannot be opened (callers then fall back to Node's APIs).
 *
 * One handle for what short commands need: the terminal's calls and the node socket's
 * (client/quick-call.ts) together, opened once.
 */
export function libc(): Libc | null {
  if (cached !== undefined) return cached;
  const c = openLibc({
    isatty: { args: [FFIType.i32], returns: FFIType.i32 },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    sched_yield: { args: [], returns: FFIType.i32 },
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
  // The symbols themselves, not JavaScript wrappers around them: a short command calls each
  // once, cold, and every function a process calls for the first time costs it ~10 µs.
  cached = c && (Object.assign(c.fn, { errno: c.errno }) as unknown as Libc);
  return cached;
}

export const EINTR = 4;
export const EPIPE = 32;
export const EAGAIN = process.platform === "darwin" ? 35 : 11;
const TIOCGWINSZ = 0x5413; // Linux; see windowSize for macOS

export function isatty(fd: number): boolean {
  const c = libc();
  if (c) return c.isatty(fd) === 1;
  return builtin("node:tty").isatty(fd);
}

/** Rows and columns of the terminal on `fd`, or undefined when it is not a terminal. */
export function windowSize(fd: number): { cols: number; rows: number } | undefined {
  const c = libc();
  // ioctl(2) is variadic, and Apple's arm64 ABI passes variadic arguments on the stack, where a
  // plain FFI call does not put them: on macOS ask Node's TTY streams instead.
  if (!c || process.platform === "darwin") {
    const stream = fd === 1 ? process.stdout : fd === 2 ? process.stderr : undefined;
    return stream?.isTTY && stream.columns > 0 ? { cols: stream.columns, rows: stream.rows } : undefined;
  }
  const ws = new Uint16Array(4);
  if (c.ioctl(fd, TIOCGWINSZ, new Uint8Array(ws.buffer)) !== 0) return undefined;
  const [rows, cols] = [ws[0]!, ws[1]!];
  return rows > 0 && cols > 0 ? { cols, rows } : undefined;
}

export class WriteError extends Error {
  constructor(readonly errno: number) {
    super(`write failed (errno ${errno})`);
  }
}

/**
 * write(2) once: bytes written, or -EAGAIN when a non-blocking descriptor is full.
 * Throws WriteError on other failures (EPIPE when the reader went away).
 */
export function writeSome(fd: number, buf: Uint8Array): number {
  const c = libc();
  if (!c) {
    const fs = builtin("node:fs");
    try {
      return fs.writeSync(fd, buf);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") return -EAGAIN;
      throw new WriteError(code === "EPIPE" ? EPIPE : -1);
    }
  }
  for (;;) {
    const n = Number(c.write(fd, buf, buf.length));
    if (n >= 0) return n;
    const e = c.errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) return -EAGAIN;
    throw new WriteError(e);
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `data` to `fd`, blocking this thread until it is written (on a non-blocking
 * descriptor that is full, it waits a moment and tries again). Throws WriteError when the
 * descriptor fails, EPIPE when its reader went away.
 */
export function writeAllSync(fd: number, data: Uint8Array): void {
  let buf = data;
  while (buf.length > 0) {
    const n = writeSome(fd, buf);
    if (n === -EAGAIN) Atomics.wait(pause, 0, 0, 2);
    else buf = buf.subarray(n);
  }
}

/** sched_yield(2), or nothing where libc is missing. */
export function yieldCpu(): void {
  libc()?.sched_yield();
}
