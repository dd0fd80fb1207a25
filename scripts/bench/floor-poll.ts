/**
 * `bun floor-poll.ts`: the "poll floor" of the latency benchmark. One Bun process sits between
 * the terminal and the echo program's PTY, the place tmux's server takes, and copies bytes both
 * ways in a blocking poll(2) loop through bun:ffi: no event loop, no second process, no frames.
 *
 * Why it is measured: the "bun floor" (floor-relay.ts + floor-attach.ts) shows what two Bun
 * processes cost when each keystroke wakes their event loops. This one shows what JavaScript on
 * Bun costs when the keystroke's path avoids the event loop altogether, so it tells a gap that
 * belongs to the runtime's event loop from one that belongs to the language: it is what a node
 * whose echo path runs on a thread of its own, reading the user's terminal directly, could reach.
 * `bun floor-poll.ts canonical` runs `cat` in canonical mode instead (the kernel echoes), for the
 * canonical-mode run: there the one thread that wrote the key is the one that reads its echo.
 *
 * Linux and macOS (posix_openpt); the program runs without a controlling terminal, which `stty`
 * and `cat` do not need.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { openSync } from "node:fs";
import { CANONICAL_ECHO_PROGRAM, ECHO_PROGRAM } from "./latency";
import { COLS, ROWS } from "./subjects";

const libc = dlopen(process.platform === "darwin" ? "libSystem.B.dylib" : "libc.so.6", {
  posix_openpt: { args: [FFIType.i32], returns: FFIType.i32 },
  grantpt: { args: [FFIType.i32], returns: FFIType.i32 },
  unlockpt: { args: [FFIType.i32], returns: FFIType.i32 },
  ptsname: { args: [FFIType.i32], returns: FFIType.cstring },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  ioctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
}).symbols;

const O_RDWR = 2;
const O_NOCTTY = process.platform === "darwin" ? 0x20000 : 0x100;
const TIOCSWINSZ = process.platform === "darwin" ? 0x80087467 : 0x5414;
const POLLIN = 1;

process.stdin.setRawMode?.(true);
const master = libc.posix_openpt(O_RDWR | O_NOCTTY);
if (master < 0 || libc.grantpt(master) !== 0 || libc.unlockpt(master) !== 0) throw new Error("no PTY");
const size = new Uint16Array([ROWS, COLS, 0, 0]);
libc.ioctl(master, TIOCSWINSZ, ptr(size));
const slave = openSync(String(libc.ptsname(master)), O_RDWR | O_NOCTTY);
const program = Bun.spawn(process.argv[2] === "canonical" ? CANONICAL_ECHO_PROGRAM : ECHO_PROGRAM, { stdio: [slave, slave, slave] });

function writeAll(fd: number, p: ReturnType<typeof ptr>, n: number) {
  let done = 0;
  while (done < n) {
    const w = Number(libc.write(fd, (p + done) as typeof p, n - done));
    if (w <= 0) throw new Error(`write to fd ${fd} failed`);
    done += w;
  }
}

// Attach clients paint when they start; the benchmark waits for the first output.
const hello = new TextEncoder().encode("poll floor attached\r\n");
writeAll(1, ptr(hello), hello.length);

// struct pollfd { int fd; short events; short revents; }, two of them: the terminal, the PTY.
// ptr() is taken at each call: a small typed array's storage may move with the garbage collector.
const fds = new Int32Array([0, 0, master, 0]);
const buf = new Uint8Array(64 * 1024);
const copies: [number, number, number][] = [
  [1, 0, master], // index of the pollfd's second word, from, to
  [3, master, 1],
];
loop: for (;;) {
  fds[1] = POLLIN;
  fds[3] = POLLIN;
  if (libc.poll(ptr(fds), 2, -1) < 0) continue;
  for (const [word, from, to] of copies) {
    if (fds[word]! >>> 16 === 0) continue;
    const n = Number(libc.read(from, ptr(buf), buf.length));
    if (n <= 0) break loop;
    writeAll(to, ptr(buf), n);
  }
}
program.kill("SIGKILL");
process.exit(0);
