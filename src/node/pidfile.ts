/**
 * One node per data directory: codewire.pid is created exclusively; a pid file left by a dead
 * node is taken over, one whose process is alive makes a second node refuse to start.
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from "node:fs";

export class AlreadyRunningError extends Error {
  constructor(readonly pid: number) {
    super(`a node is already running for this data directory (pid ${pid})`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed node whose parent has not reaped it yet (common in containers without an init)
  // still answers kill(0) as a zombie; it holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

export function acquirePidFile(path: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (Number(readFileSync(path, "utf8")) === process.pid) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let pid = 0;
      try {
        pid = Number(readFileSync(path, "utf8").trim());
      } catch {
        continue;
      }
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
