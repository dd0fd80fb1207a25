/**
 * One node per data directory. The node holds an exclusive lock (flock) on codewire.pid for as
 * long as it lives, and writes its pid there for `cw stop` and for people.
 *
 * Why a lock and not "is the pid in the file alive": after a crash and a reboot (or a container
 * restart) the pid in a leftover file often belongs to some other program by now, and a liveness
 * check then refuses to start a node that nothing is running. A lock dies with its process, so a
 * leftover file is simply taken over. Where libc cannot be opened, the liveness check remains.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { FFIType } from "bun:ffi";
import { openLibc } from "../sys/libc";
import { procStat } from "../sys/proc";

export class AlreadyRunningError extends Error {
  constructor(readonly pid: number) {
    super(`a node is already running for this data directory${pid > 0 ? ` (pid ${pid})` : ""}`);
  }
}

const LOCK_EX = 2;
const LOCK_NB = 4;

let flockFn: ((fd: number, op: number) => number) | null | undefined;

function flock(): ((fd: number, op: number) => number) | null {
  if (flockFn !== undefined) return flockFn;
  const c = openLibc({ flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
  flockFn = c ? (fd, op) => c.fn.flock!(fd, op) as number : null;
  return flockFn;
}

function readPid(path: string): number {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** Takes the data directory for this process; returns the release function. */
export function acquirePidFile(path: string): () => void {
  const lock = flock();
  return lock ? acquireLocked(path, lock) : acquireByLiveness(path);
}

function acquireLocked(path: string, lock: (fd: number, op: number) => number): () => void {
  for (let attempt = 0; attempt < 5; attempt++) {
    const fd = openSync(path, "a+", 0o600);
    if (lock(fd, LOCK_EX | LOCK_NB) !== 0) {
      closeSync(fd);
      throw new AlreadyRunningError(readPid(path));
    }
    // A node that was just stopping may have unlinked the file we opened: then the lock is on a
    // file nobody else will look at. Only the file at the path counts.
    let same = false;
    try {
      same = statSync(path).ino === fstatSync(fd).ino;
    } catch {
      /* unlinked meanwhile */
    }
    if (!same) {
      closeSync(fd);
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
    return () => {
      try {
        if (readPid(path) === process.pid) unlinkSync(path);
      } catch {
        /* already gone */
      }
      closeSync(fd);
    };
  }
  throw new Error(`could not take ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed node whose parent has not reaped it yet (common in containers without an init)
  // still answers kill(0) as a zombie; it holds nothing.
  return procStat(pid)?.[0] !== "Z";
}

/** Without flock: the file is created exclusively, and one whose process is gone is taken over. */
function acquireByLiveness(path: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readPid(path) === process.pid) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = readPid(path);
      if (pid > 0 && pid !== process.pid && alive(pid)) throw new AlreadyRunningError(pid);
      try {
        unlinkSync(path);
      } catch {
        /* someone else took it over: retry */
      }
    }
  }
  throw new Error(`could not take ${path}`);
}
