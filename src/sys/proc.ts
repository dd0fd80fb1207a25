/** What Linux's /proc says of a process. */
import { readFileSync } from "node:fs";

/**
 * The fields of /proc/<pid>/stat from the third on (the state first, field 22 the start time at
 * index 19), or undefined where there is no such file (the process is gone, or no /proc). The
 * command name (field 2) may hold spaces and ")": the fields are counted after its last ")".
 */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
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
