/** Small helpers for the benchmark: statistics, running commands, reading /proc. */
import { readFileSync } from "node:fs";
import { FFIType, ptr } from "bun:ffi";
import { openLibc } from "../../src/sys/libc";

export const MiB = 1024 * 1024;

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Nearest-rank quantile (p in [0, 1]); the sample that at least p of all samples do not exceed. */
export function quantile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil(p * s.length)));
  return s[rank - 1]!;
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A small deterministic PRNG (mulberry32), so gaps between keystrokes repeat run to run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Throw when the command fails (default true). */
  check?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion; `ms` is its wall time as seen from here. */
export function run(cmd: string[], opts: RunOptions = {}): RunResult {
  const t0 = performance.now();
  const r = Bun.spawnSync(cmd, {
    env: opts.env as Record<string, string> | undefined,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 30_000,
  });
  const ms = performance.now() - t0;
  const res = { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), ms };
  if ((opts.check ?? true) && res.code !== 0) {
    throw new Error(`${cmd.join(" ")} exited ${res.code}${r.signalCode ? ` (${r.signalCode})` : ""}: ${res.stderr.trim() || res.stdout.trim()}`);
  }
  return res;
}

/** Resident set size of a process in bytes (VmRSS: all its threads, the screen worker included). */
export function rssBytes(pid: number): number {
  return statusField(pid, "VmRSS");
}

/**
 * Resident memory by kind, in bytes: anonymous (heaps, stacks) and file-backed (mostly the
 * executable's own code and embedded bundle, which every process of the same binary shares).
 */
export function rssKinds(pid: number): { anon: number; file: number } {
  return { anon: statusField(pid, "RssAnon"), file: statusField(pid, "RssFile") + statusField(pid, "RssShmem") }; // shared memory counted with the files
}

/** Peak resident set size (VmHWM) in bytes. */
export function peakRssBytes(pid: number): number {
  return statusField(pid, "VmHWM");
}

function statusField(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) * 1024;
}

const TICKS = 100; // USER_HZ on Linux

type ClockGettime = (clock: number, ts: BigInt64Array) => number;
let clockGettime: ClockGettime | null | undefined;
function processClock(): ClockGettime | null {
  if (clockGettime !== undefined) return clockGettime;
  const c = process.platform === "linux" ? openLibc({ clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } }) : null;
  clockGettime = c && ((clock, ts) => c.fn.clock_gettime!(clock, ptr(ts)) as number);
  return clockGettime;
}

/**
 * CPU seconds (user + system) a process has used so far, all threads, the ones that ended too.
 *
 * Read from the process's CPU-time clock (clock_gettime on MAKE_PROCESS_CPUCLOCK(pid,
 * CPUCLOCK_SCHED): the scheduler's own count, in nanoseconds) where Linux offers it. /proc's
 * utime + stime count 10 ms ticks: over a 10 s window, the tmux server's 0.6% of a core is 6
 * ticks, so one tick either way moved a cw/tmux ratio by a sixth.
 */
export function cpuSeconds(pid: number): number {
  const clock = processClock();
  if (clock) {
    const ts = new BigInt64Array(2);
    if (clock((~pid << 3) | 2, ts) === 0) return Number(ts[0]) + Number(ts[1]) / 1e9;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return Number.NaN;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return "-";
  const sign = b < 0 ? "-" : "";
  const a = Math.abs(b);
  if (a < 1024) return `${sign}${a.toFixed(0)} B`;
  if (a < MiB) return `${sign}${(a / 1024).toFixed(1)} KiB`;
  return `${sign}${(a / MiB).toFixed(2)} MiB`;
}

/** Samples a value a few times over `ms` and returns the median (RSS wobbles a little). */
export async function settledMedian(sample: () => number, ms: number, count = 5): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < count; i++) {
    await Bun.sleep(ms / count);
    xs.push(sample());
  }
  return median(xs);
}
