/**
 * One request and its reply over the local node's socket, with blocking calls through libc: the
 * fast path of short commands (`cw list`, `cw send`, `cw status`, `cw hook`, …) that a person or
 * an agent runs many times. Long-lived callers (the MCP server, attach, anything that waits for
 * events) use the event-driven NodeConnection instead.
 *
 * Why blocking calls, not Bun.connect: a short command runs its code once, cold, and the
 * event-loop path (socket context, promises, frame callbacks) cost a compiled binary ~1.7 ms from
 * connect to reply against ~1.0 ms for socket/connect/write/read, most of which is the node's
 * own answer.
 *
 * The socket calls are written out here rather than behind a socket class: in a compiled binary
 * each function a process calls for the first time costs it ~10 µs (its bytecode is loaded then).
 */
import type { Reply, RequestInput, RequestType } from "../protocol";
import { controlFrame, FrameReader } from "../protocol/frame";
import { PROTOCOL_VERSION } from "../protocol/version";
import { EAGAIN, EINTR, libc } from "../sys/libc";
import { NodeError, NodeUnavailableError } from "./errors";

/** How long a short request may wait for the node before the command gives up. */
export const QUICK_TIMEOUT_MS = 30_000;

const darwin = process.platform === "darwin";
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = darwin ? 0 : 0o2000000;
const SOL_SOCKET = darwin ? 0xffff : 1;
const SO_RCVTIMEO = darwin ? 0x1006 : 20;
const SO_SNDTIMEO = darwin ? 0x1005 : 21;
/** sockaddr_un: sun_path holds 104 bytes on macOS, 108 on Linux, both NUL-terminated. */
const SUN_PATH_MAX = darwin ? 104 : 108;

const timedOut = (ms: number) =>
  new NodeUnavailableError(
    `the node did not answer within ${ms / 1000}s`,
    "the request was withdrawn: a node drops a request whose client left before it was read, but one it had already read may still finish (`cw list` shows); see node.log in the data directory, and `cw stop && cw start` restarts the node",
  );
const broken = () => new NodeUnavailableError("the connection to the node broke before it answered", "try again; if it keeps happening, see node.log in the data directory");

/**
 * Sends `req` to the node listening on `socketPath` and returns its first control reply (an Error
 * reply is thrown as a NodeError). Returns undefined when no node listens there (nothing at the
 * path, a stale socket, or no libc to call), so the caller can start one.
 */
export function quickCall<T extends RequestType>(socketPath: string, req: RequestInput<T>, timeoutMs = QUICK_TIMEOUT_MS): Reply | undefined {
  const c = libc();
  const path = new TextEncoder().encode(socketPath);
  if (!c || path.length >= SUN_PATH_MAX) return undefined;
  const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return undefined;
  try {
    // Everything is ready before connecting, so the request follows the connection at once and
    // the node finds both when it wakes.
    const request = controlFrame({ protocol: PROTOCOL_VERSION, ...req });
    const addr = new Uint8Array(2 + SUN_PATH_MAX);
    if (darwin) {
      addr[0] = addr.length; // sun_len
      addr[1] = AF_UNIX;
    } else addr[0] = AF_UNIX; // sa_family, little-endian
    addr.set(path, 2);
    // Reads and writes block for at most timeoutMs. struct timeval: 64-bit seconds, then
    // microseconds (64-bit on Linux, 32-bit and padding on macOS).
    const tv = new Uint8Array(16);
    const view = new DataView(tv.buffer);
    view.setBigInt64(0, BigInt(Math.floor(timeoutMs / 1000)), true);
    view.setInt32(8, (timeoutMs % 1000) * 1000, true);
    c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, tv.length);
    c.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, tv.length);
    while (c.connect(fd, addr, addr.length) !== 0) {
      const e = c.errno();
      // A node so busy that its queue of connections stayed full (SO_SNDTIMEO bounds the wait).
      if (e === EAGAIN) throw timedOut(timeoutMs);
      // Nothing listens there (ENOENT, ECONNREFUSED, not a socket): the caller may start a node.
      if (e !== EINTR) return undefined;
    }
    for (let off = 0; off < request.length; ) {
      const n = Number(c.write(fd, request.subarray(off), request.length - off));
      if (n >= 0) {
        off += n;
        continue;
      }
      const e = c.errno();
      if (e === EAGAIN) throw timedOut(timeoutMs);
      if (e !== EINTR) throw broken();
    }

    const reader = new FrameReader();
    for (;;) {
      // A fresh buffer each time: the reader keeps the chunks it was given until a frame is whole.
      const buf = new Uint8Array(64 * 1024);
      const n = Number(c.read(fd, buf, buf.length));
      if (n > 0) {
        for (const f of reader.push(buf.subarray(0, n))) {
          if (f.kind !== "control") continue; // data frames before the reply are not for this caller
          const reply = f.message as Reply;
          if (reply.type === "Error") throw new NodeError(reply.code, reply.message, reply.hint, reply.issues);
          return reply;
        }
        continue;
      }
      if (n === 0) throw new NodeError("internal", "the node closed the connection without answering", "see node.log in the data directory");
      const e = c.errno();
      if (e === EAGAIN) throw timedOut(timeoutMs);
      if (e !== EINTR) throw broken();
    }
  } finally {
    c.close(fd);
  }
}
