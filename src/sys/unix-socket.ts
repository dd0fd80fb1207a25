/**
 * A blocking Unix-socket client through libc, for one request and one reply.
 *
 * Why not Bun.connect: a short command such as `cw list` runs its code once, cold, and the
 * event-loop path (socket context, promises, frame callbacks) cost a compiled binary ~1.7 ms
 * from connect to reply against ~1.0 ms for socket/connect/write/read here, most of which is the
 * node's own answer. Opened on first use and apart from libc() in sys/libc.ts, so commands that
 * only print do not pay for these symbols.
 */
import { FFIType, ptr } from "bun:ffi";
import { EAGAIN, EINTR, openLibc } from "./libc";

const darwin = process.platform === "darwin";
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = darwin ? 0 : 0o2000000;
const SOL_SOCKET = darwin ? 0xffff : 1;
const SO_RCVTIMEO = darwin ? 0x1006 : 20;
const SO_SNDTIMEO = darwin ? 0x1005 : 21;
/** sockaddr_un: sun_path holds 104 bytes on macOS, 108 on Linux, both NUL-terminated. */
const SUN_PATH_MAX = darwin ? 104 : 108;

type Fns = {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  read(fd: number, buf: number, len: number): number | bigint;
  write(fd: number, buf: number, len: number): number | bigint;
  close(fd: number): number;
  errno(): number;
};

let cached: Fns | null | undefined;

function fns(): Fns | null {
  if (cached !== undefined) return cached;
  const c = openLibc({
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
  cached = c && {
    socket: (d, t, p) => c.fn.socket!(d, t, p) as number,
    connect: (fd, addr, len) => c.fn.connect!(fd, addr, len) as number,
    setsockopt: (fd, level, opt, value, len) => c.fn.setsockopt!(fd, level, opt, value, len) as number,
    read: (fd, buf, len) => c.fn.read!(fd, buf, len) as number | bigint,
    write: (fd, buf, len) => c.fn.write!(fd, buf, len) as number | bigint,
    close: (fd) => c.fn.close!(fd) as number,
    errno: c.errno,
  };
  return cached;
}

/** The socket could not be reached at all: nobody listens (ENOENT, ECONNREFUSED) or libc is missing. */
export class SocketUnreachable extends Error {}

/** The peer did not answer (or take our bytes) within the timeout. */
export class SocketTimeout extends Error {}

/** Reading or writing failed after connecting (the peer went away). */
export class SocketBroken extends Error {
  constructor(readonly errno: number) {
    super(`socket failed (errno ${errno})`);
  }
}

export class BlockingUnixSocket {
  private closed = false;

  private constructor(
    private readonly f: Fns,
    private readonly fd: number,
  ) {}

  /**
   * Connects to the socket at `path`; reads and writes then block for at most `timeoutMs`.
   * Throws SocketUnreachable when nothing listens there (the caller may start a node).
   */
  static connect(path: string, timeoutMs: number): BlockingUnixSocket {
    const f = fns();
    if (!f) throw new SocketUnreachable("libc is not available");
    const pathBytes = new TextEncoder().encode(path);
    if (pathBytes.length >= SUN_PATH_MAX) throw new SocketUnreachable(`socket path too long: ${path}`);
    const fd = f.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new SocketUnreachable(`socket() failed (errno ${f.errno()})`);
    const addr = new Uint8Array(2 + SUN_PATH_MAX);
    if (darwin) {
      addr[0] = addr.length; // sun_len
      addr[1] = AF_UNIX;
    } else new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
    addr.set(pathBytes, 2);
    for (;;) {
      if (f.connect(fd, addr, addr.length) === 0) break;
      const e = f.errno();
      if (e === EINTR) continue;
      f.close(fd);
      throw new SocketUnreachable(`connect to ${path} failed (errno ${e})`);
    }
    // struct timeval: 64-bit seconds, then microseconds (64-bit on Linux, 32-bit + padding on macOS).
    const tv = new Uint8Array(16);
    const view = new DataView(tv.buffer);
    view.setBigInt64(0, BigInt(Math.floor(timeoutMs / 1000)), true);
    view.setInt32(8, (timeoutMs % 1000) * 1000, true);
    f.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, tv.length);
    f.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, tv.length);
    return new BlockingUnixSocket(f, fd);
  }

  writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const n = Number(this.f.write(this.fd, ptr(bytes, off), bytes.length - off));
      if (n >= 0) {
        off += n;
        continue;
      }
      const e = this.f.errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) throw new SocketTimeout("the peer did not take the request in time");
      throw new SocketBroken(e);
    }
  }

  /** Reads what is there into `buf` (waiting for at least one byte); 0 means the peer closed. */
  read(buf: Uint8Array): number {
    for (;;) {
      const n = Number(this.f.read(this.fd, ptr(buf), buf.length));
      if (n >= 0) return n;
      const e = this.f.errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) throw new SocketTimeout("the peer did not answer in time");
      throw new SocketBroken(e);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.f.close(this.fd);
  }
}
