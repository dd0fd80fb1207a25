/**
 * Finding processes through Linux's /proc: a process's children, and every process whose
 * environment holds a given variable. Where there is no /proc (macOS) both find nothing, and
 * callers fall back to what they knew (the process group they started).
 */
import { readdirSync, readFileSync } from "node:fs";
import { readProcFile } from "./proc";

/** The children of `pid`, from every thread's children file (a thread's forks are listed under it). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    // Undefined once the thread has ended.
    const children = readProcFile(`/proc/${pid}/task/${tid}/children`);
    if (children) for (const c of children.split(" ")) if (c) out.push(Number(c));
  }
  return out;
}

/** `roots` and all their descendants (each once), never `skip` or what descends only from it. */
export function withDescendants(roots: Iterable<number>, skip?: number): Set<number> {
  const seen = new Set<number>();
  const todo = [...roots];
  while (todo.length) {
    const pid = todo.pop()!;
    if (seen.has(pid) || pid === skip) continue;
    seen.add(pid);
    todo.push(...childrenOf(pid));
  }
  return seen;
}

/**
 * Every process whose environment holds `name=value` (as it was at its exec; only processes
 * this user may inspect). Costs a read of each process's environ (about 15 µs a process): for
 * rare moments, not polling.
 */
export function processesWithEnv(name: string, value: string): number[] {
  return processesByEnv(name).get(value) ?? [];
}

/** For each value of the variable `name` in processes' environments, the processes that have it. */
export function processesByEnv(name: string): Map<string, number[]> {
  const prefix = Buffer.from(`${name}=`);
  const out = new Map<string, number[]>();
  let pids: string[];
  try {
    pids = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const d of pids) {
    const c = d.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${d}/environ`);
    } catch {
      continue;
    }
    for (let at = env.indexOf(prefix); at >= 0; at = env.indexOf(prefix, at + 1)) {
      if (at !== 0 && env[at - 1] !== 0) continue;
      const end = env.indexOf(0, at);
      const value = env.toString("latin1", at + prefix.length, end < 0 ? env.length : end);
      const list = out.get(value);
      if (list) list.push(Number(d));
      else out.set(value, [Number(d)]);
      break;
    }
  }
  return out;
}

/** Sends `sig` to `pid` alone; false if it is gone (or not ours). */
export function signalProcess(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
