/** What Linux's /proc says of a process. */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";

/**
 * One buffer for every small /proc file read. Why not readFileSync: /proc files report a size of
 * 0, so it reads each into a fresh 256 KiB buffer. The idle node reads dozens a second (its
 * process look, session-processes.ts): ~6 MiB a second with 100 sessions, which kept mimalloc
 * returning pages (strace: 106 madvise calls in 10 s, 22 with this buffer).
 */
const small = Buffer.allocUnsafe(16 * 1024);

/**
 * The text of a small /proc file (latin1; what fits in 16 KiB), or undefined when it cannot be
 * read (the process or thread is gone, or no /proc).
 */
export function readProcFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    let n = 0;
    while (n < small.length) {
      const got = readSync(fd, small, n, small.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return small.toString("latin1", 0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The fields of /proc/<pid>/stat from the third on (the state first, field 22 the start time at
 * index 19), or undefined where there is no such file (the process is gone, or no /proc). The
 * command name (field 2) may hold spaces and ")": the fields are counted after its last ")".
 */
export function procStat(pid: number): string[] | undefined {
  const stat = readProcFile(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

let bootId: string | undefined;

/**
 * Which process `pid` is: its start time (/proc/<pid>/stat field 22, clock ticks since boot) and
 * the boot it belongs to. null once it has exited, and where there is no /proc (then nothing can
 * be verified, and a program is taken to have died with its node).
 */
export function processStart(pid: number): string | null {
  const fields = procStat(pid);
  if (!fields || fields[0] === "Z" || fields[0] === "X") return null; // gone, or exited and not yet reaped
  if (bootId === undefined) {
    try {
      bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      bootId = "";
    }
  }
  return fields[19] ? `${bootId}:${fields[19]}` : null;
}

/** Whether `pid` is still the process whose processStart was `start`. */
export function sameProcess(pid: number | null, start: string | null): boolean {
  return pid !== null && start !== null && processStart(pid) === start;
}
