/**
 * Keystroke echo latency. The program is `stty raw -echo; exec cat`, so every byte goes through
 * the program and back (the line discipline does not echo it for us). We are the terminal: we
 * write one byte into the master of the client's PTY and time until it comes back.
 *
 * - bare PTY: the program runs directly on our PTY.
 * - cw: our PTY runs `cw attach <id>`; the byte travels client → node → session PTY → cat and
 *   back the same way.
 * - tmux: our PTY runs `tmux attach -t <session>`.
 *
 * Typing: the targets take turns, one keystroke each in a shuffled order, 35-85 ms apart, so a
 * target sees a key every ~180 ms on average, like a person typing, and all of them meet the same
 * background load (this machine may be shared). Burst: one target at a time, keys 5-30 ms apart,
 * like pasting or key repeat, which keeps a polling server in its hot state.
 */
import { BenchPty } from "./pty";
import { COLS, ROWS } from "./subjects";
import { mean, prng, quantile } from "./util";

export const ECHO_PROGRAM = ["sh", "-c", "stty raw -echo; exec cat"];
/**
 * The same in canonical mode, where the kernel's line discipline echoes each key as plain `cat`,
 * `read` or a shell prompt have it: the program itself sees nothing until Enter.
 */
export const CANONICAL_ECHO_PROGRAM = ["sh", "-c", "stty sane; exec cat"];

export interface LatencyResult {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  timeouts: number;
}

export interface EchoTarget {
  name: string;
  cmd: string[];
  env: Record<string, string>;
  /** The client paints the screen when it starts (attach clients do, a bare program does not). */
  paints: boolean;
}

export interface EchoOptions {
  warmup: number;
  samples: number;
  /** Pause before each keystroke, uniformly in [gapMin, gapMax] ms. */
  gapMin: number;
  gapMax: number;
  seed?: number;
}

/** Letters that terminal escape sequences (which tmux emits while redrawing) do not end with. */
const KEYS = "xyzXYZ";

function summarize(lat: number[], timeouts: number): LatencyResult {
  return {
    samples: lat.length,
    p50: quantile(lat, 0.5),
    p90: quantile(lat, 0.9),
    p99: quantile(lat, 0.99),
    max: lat.length ? Math.max(...lat) : Number.NaN,
    mean: mean(lat),
    timeouts,
  };
}

/** One keystroke: ms until it came back, or undefined after 2 s. */
function sample(p: BenchPty, key: number, what: string): number | undefined {
  // Anything still in flight (a late redraw) is not part of this sample.
  while (p.read(0).kind === "data") {}
  const t0 = performance.now();
  p.write(new Uint8Array([key]));
  for (;;) {
    const left = t0 + 2000 - performance.now();
    if (left <= 0) return undefined;
    const r = p.read(left);
    if (r.kind === "eof") throw new Error(`${what} exited during the latency run`);
    if (r.kind === "data" && p.buf.subarray(0, r.n).includes(key)) return performance.now() - t0;
  }
}

/** Measures every target, taking turns keystroke by keystroke. */
export function measureEcho(targets: EchoTarget[], opts: EchoOptions): Record<string, LatencyResult> {
  const ptys: BenchPty[] = [];
  try {
    for (const t of targets) {
      const p = new BenchPty({ cmd: t.cmd, env: t.env, cols: COLS, rows: ROWS });
      ptys.push(p);
      if (t.paints && !p.waitOutput(10_000)) throw new Error(`${t.cmd.join(" ")} painted nothing`);
    }
    // Let the clients settle (and the program switch its terminal to raw) before the first key.
    for (const p of ptys) p.drainQuiet(300);
    const rand = prng(opts.seed ?? 0xc0de);
    const lat: number[][] = targets.map(() => []);
    const lost = targets.map(() => 0);
    const order = targets.map((_, i) => i);
    for (let round = 0; round < opts.warmup + opts.samples; round++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const k of order) {
        Bun.sleepSync(opts.gapMin + rand() * (opts.gapMax - opts.gapMin));
        const ms = sample(ptys[k]!, KEYS.charCodeAt(round % KEYS.length), targets[k]!.name);
        if (round < opts.warmup) continue;
        if (ms === undefined) lost[k]!++;
        else lat[k]!.push(ms);
      }
    }
    return Object.fromEntries(targets.map((t, k) => [t.name, summarize(lat[k]!, lost[k]!)]));
  } finally {
    for (const p of ptys) p.close();
  }
}
