/**
 * Many idle sessions: the server's resident memory with 0 and with N sessions of `sleep 3600`,
 * and the wall time of listing them (`cw list` vs `tmux ls`), run as a user would, N times.
 *
 * Each side gets a fresh server for this, so earlier throughput runs do not colour its memory.
 * tmux gets N sessions of one window each: N windows, and `tmux ls` has N lines to print, like
 * `cw list`. The two list commands are timed in turns (cw, tmux, tmux, cw, ...), so a drift in
 * the machine's speed during the run meets both alike instead of moving their ratio.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { baseEnv, COLS, type Cw, ROWS, type Tmux } from "./subjects";
import { cpuShare } from "./cpu";
import { median, quantile, rssBytes, rssKinds, run, settledMedian } from "./util";

export interface ScaleResult {
  sessions: number;
  rss0: number;
  rssN: number;
  perSession: number;
  /** cw only: the idle node's RSS by kind (util.ts rssKinds). */
  rss0Kinds?: { anon: number; file: number };
  list: { median: number; p90: number; runs: number };
  /** cw only: the same binary doing nothing (`cw --version`): the start-up floor of any command. */
  startupFloor?: { median: number; p90: number; runs: number };
  /** cw only: a compiled hello-world Bun binary: the floor of any Bun-built command line tool. */
  runtimeFloor?: { median: number; p90: number; runs: number };
  /** cw only: the ListSessions round trip over the socket from a client already running. */
  rpc?: { median: number; p90: number; runs: number };
  /** The server's share of a core with the sessions idle (cpu.ts's window). */
  idleCpu?: number;
}

function summary(xs: number[]) {
  return { median: median(xs), p90: quantile(xs, 0.9), runs: xs.length };
}

function timeRuns(cmd: string[], env: Record<string, string>, runs: number, check?: (out: string) => void): number[] {
  for (let i = 0; i < 3; i++) run(cmd, { env }); // warm-up: page cache, first-run costs
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = run(cmd, { env });
    if (i === 0) check?.(r.stdout);
    xs.push(r.ms);
  }
  return xs;
}

/** Builds a compiled hello-world the way dist/cw is built; undefined if that fails. */
function helloWorld(dir: string): string | undefined {
  const src = join(dir, "hello.ts");
  const out = join(dir, "hello");
  try {
    writeFileSync(src, 'console.log("hello");\n');
    run([process.execPath, "build", "--compile", "--bytecode", "--minify", src, "--outfile", out], { timeoutMs: 60_000 });
    return out;
  } catch {
    return undefined;
  }
}

/** cw's side: its node with `sessions` idle sessions, and the floors of a cw command. */
export async function cwScale(cw: Cw, sessions: number, runs: number, workDir: string, cpuWindowS: number): Promise<Omit<ScaleResult, "list">> {
  const pid = cw.start();
  const rss0 = await settledMedian(() => rssBytes(pid), 1500);
  const rss0Kinds = rssKinds(pid);
  for (let i = 0; i < sessions; i++) await cw.launch(["sleep", "3600"]);
  // 5 s after the burst of launches: the node's heap settles (a collection or two) before the
  // idle sessions are measured.
  const rssN = await settledMedian(() => rssBytes(pid), 5000);
  const idleCpu = await cpuShare([pid], cpuWindowS);
  const env = cw.env();
  const floor = timeRuns([cw.bin, "--version"], env, runs);
  const hello = helloWorld(workDir);
  const runtime = hello ? timeRuns([hello], env, runs) : undefined;
  const rpc: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = performance.now();
    const conn = await cw.connect();
    conn.send({ type: "ListSessions" });
    const reply = await conn.nextReply();
    conn.close();
    if (reply?.type !== "SessionList") throw new Error("ListSessions failed");
    if (i >= 3) rpc.push(performance.now() - t0);
  }
  return {
    sessions,
    rss0,
    rss0Kinds,
    rssN,
    perSession: (rssN - rss0) / sessions,
    startupFloor: summary(floor),
    ...(runtime ? { runtimeFloor: summary(runtime) } : {}),
    rpc: summary(rpc),
    idleCpu,
  };
}

/** tmux's side: a server with `sessions` idle sessions. */
export async function tmuxScale(tmux: Tmux, sessions: number, cpuWindowS: number): Promise<Omit<ScaleResult, "list">> {
  const pid = tmux.startServer();
  const rss0 = await settledMedian(() => rssBytes(pid), 1500);
  // Ten sessions per tmux invocation keeps this quick.
  for (let i = 0; i < sessions; i += 10) {
    const args: string[] = [];
    for (let j = i; j < Math.min(sessions, i + 10); j++) {
      if (args.length) args.push(";");
      args.push("new-session", "-d", "-s", `idle${j}`, "-x", String(COLS), "-y", String(ROWS), "sleep 3600");
    }
    tmux.cmd(args);
  }
  const rssN = await settledMedian(() => rssBytes(pid), 2500);
  const idleCpu = await cpuShare([pid], cpuWindowS);
  return { sessions, rss0, rssN, perSession: (rssN - rss0) / sessions, idleCpu };
}

/** `cw list` and `tmux ls` against the servers set up above, timed in turns. */
export function listBoth(cw: Cw, tmux: Tmux, sessions: number, runs: number) {
  const cwList = [cw.bin, "list"];
  const tmuxLs = [...tmux.base(), "ls"];
  const cwEnv = cw.env();
  const tmuxEnv = baseEnv();
  const lines = (cmd: string[], env: Record<string, string>, header: number) => {
    const n = run(cmd, { env }).stdout.trim().split("\n").length - header;
    if (n !== sessions) throw new Error(`${cmd.join(" ")} showed ${n} sessions, expected ${sessions}`);
  };
  lines(cwList, cwEnv, 1);
  lines(tmuxLs, tmuxEnv, 0);
  for (let i = 0; i < 3; i++) {
    // warm-up: page cache, first-run costs
    run(cwList, { env: cwEnv });
    run(tmuxLs, { env: tmuxEnv });
  }
  const cwMs: number[] = [];
  const tmuxMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate who goes first, so neither always runs right after the other.
    if (i % 2 === 0) {
      cwMs.push(run(cwList, { env: cwEnv }).ms);
      tmuxMs.push(run(tmuxLs, { env: tmuxEnv }).ms);
    } else {
      tmuxMs.push(run(tmuxLs, { env: tmuxEnv }).ms);
      cwMs.push(run(cwList, { env: cwEnv }).ms);
    }
  }
  return { cw: summary(cwMs), tmux: summary(tmuxMs) };
}
