/**
 * Our own descriptor for the master of a PTY that Bun.Terminal opened, so that keystrokes can be
 * written to it at once.
 *
 * Why: Bun.Terminal.write does not write. It asks epoll whether the PTY is writable and writes on
 * the event loop's next turn (strace of the node for one key: recvfrom from the client,
 * epoll_ctl(EPOLLOUT), epoll_pwait2, poll, and only then write). That turn is on every key's way
 * to the program. Bun.Terminal exposes no descriptor, so we find the one it opened: the master
 * descriptors that appeared in /proc/self/fd while Bun.spawn ran (spawning is synchronous, and
 * nothing else on this thread opens /dev/ptmx meanwhile), and dup(2) one of them. The dup is ours
 * (closed by us, never reused under us when Bun closes its own), and shares the open file, so it
 * is non-blocking like Bun's. Linux only; elsewhere (no /proc) Bun's writer is used.
 */
import { closeSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { FFIType } from "bun:ffi";
import { openLibc } from "../../sys/libc";

let dupFn: ((fd: number) => number) | null | undefined;
function dup(): ((fd: number) => number) | null {
  if (dupFn !== undefined) return dupFn;
  const c = openLibc({ dup: { args: [FFIType.i32], returns: FFIType.i32 } });
  dupFn = c && ((fd) => c.fn.dup!(fd) as number);
  return dupFn;
}

/** This process's open descriptors (as /proc/self/fd names them), or undefined without /proc. */
export function openFds(): Set<string> | undefined {
  try {
    return new Set(readdirSync("/proc/self/fd"));
  } catch {
    return undefined;
  }
}

/**
 * Which PTY the open file behind `fd` is (its fdinfo's `tty-index`, with `ino` for the device
 * node), or undefined when `fd` is closed or no PTY master.
 */
export function ptyIdentity(fd: number | string): { ino: string; index: number } | undefined {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
    const ino = /^ino:\s*(\d+)/m.exec(info)?.[1];
    const index = /^tty-index:\s*(\d+)/m.exec(info)?.[1];
    return ino && index ? { ino, index: Number(index) } : undefined;
  } catch {
    return undefined;
  }
}

function isMaster(fd: string): boolean {
  try {
    const target = readlinkSync(`/proc/self/fd/${fd}`);
    return target === "/dev/ptmx" || target === "/dev/pts/ptmx";
  } catch {
    return false;
  }
}

/**
 * Runs `spawn` (which opens exactly one PTY) and returns what it returned, with a descriptor of
 * our own for that PTY's master, or -1 when it cannot be told (then write through Bun), and the
 * master descriptors the spawn opened (Bun's own: epoll-reader.ts finds its reader among them).
 */
export function withMasterFd<T>(spawn: () => T): { value: T; fd: number; masters: number[] } {
  const before = process.platform === "linux" && process.env.CODEWIRE_PTY_DIRECT_WRITE !== "0" ? openFds() : undefined;
  const value = spawn();
  if (!before) return { value, fd: -1, masters: [] };
  const after = openFds();
  const d = dup();
  if (!after || !d) return { value, fd: -1, masters: [] };
  const masters = [...after].filter((fd) => !before.has(fd) && isMaster(fd)).map(Number);
  if (masters.length === 0) return { value, fd: -1, masters };
  const fd = d(masters[masters.length - 1]!);
  return { value, fd: fd >= 0 ? fd : -1, masters };
}

/**
 * The master descriptors of the PTY that is process `pid`'s controlling terminal, found by its
 * number (`tty_nr` in /proc/<pid>/stat; `tty-index` in each master's fdinfo). For when
 * withMasterFd could not tell them: the numbers Bun gave the new PTY's descriptors can be ones
 * that were open before the spawn, when Bun closed an ended PTY's descriptors during it (seen
 * when a session started right after another ended). Empty when the program has no terminal
 * of ours (it left it, or is gone). Linux only.
 */
export function mastersOf(pid: number): number[] {
  let index: number;
  try {
    // Field 7, after the command in parentheses (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ttyNr = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[4]);
    const major = (ttyNr >> 8) & 0xfff;
    const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
    // Unix98 PTY slaves: majors 136-143.
    if (major < 136 || major > 143) return [];
    index = (major - 136) * 256 + minor;
  } catch {
    return [];
  }
  const fds: number[] = [];
  for (const fd of openFds() ?? []) if (isMaster(fd) && ptyIdentity(fd)?.index === index) fds.push(Number(fd));
  return fds;
}

/** A descriptor of one's own for the same open file as `fd` (dup(2)); -1 when it cannot be had. */
export function dupFd(fd: number): number {
  const d = fd >= 0 ? dup() : null;
  if (!d) return -1;
  const n = d(fd);
  return n >= 0 ? n : -1;
}

export function closeFd(fd: number): void {
  if (fd < 0) return;
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}
