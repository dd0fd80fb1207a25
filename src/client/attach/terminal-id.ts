/**
 * A name for the terminal window `cw attach` runs in that stays the same across attaches and
 * changes when the window does: this machine, the tty, and the process that leads the tty's
 * session (the window's shell) with its start time, since tty numbers are reused. The node
 * sends a session's history once per such terminal: its scrollback already holds it after that.
 */
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { procStat, processStart } from "../../sys/proc";

export function terminalId(): string | undefined {
  try {
    const tty = readlinkSync("/proc/self/fd/1");
    if (!tty.startsWith("/dev/")) return undefined;
    const sid = Number(procStat(process.pid)?.[3]);
    const start = sid > 0 ? processStart(sid) : null;
    return start ? `${hostname()}:${tty}:${sid}:${start}` : undefined;
  } catch {
    return undefined;
  }
}
