/**
 * Many idle sessions: the server's resident memory with 0 and with N sessions of `sleep 3600`,
 * and the wall time of listing them (`cw list` vs `tmux ls`), run as a user would, N times.
 *
 * Each side gets a fresh server for this, so earlier throughput runs do not colour its memory.
 * tmux gets N sessions of one window each: N windows, and `tmux ls` has N lines to print, like
 * `cw list`. The two list commands are timed in turns (cw, tmux, tmux, cw, ...), so a drift in
 * the machine's speed during the run meets both alike instead of moving their ratio.
 *
 * The floors of a Bun-built command (a compiled program that does nothing, and a hello-world)
 * are timed in the same turns, each beside a `tmux ls`, because that is what they are compared
 * with: on this 2-core VM a compiled Bun program that runs right after another program starts
 * 0.6-0.8 ms slower than one run back to back with itself (measured: a hello-world 3.97 ms
 * back to back, 4.56 ms alternating with `tmux ls`), so floors timed back to back understated
 * what the runtime alone costs against `tmux ls`.
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
  /**
   * cw only: compiled Bun programs timed in the same turns as `cw list` (listBoth): one that does
   * nothing (the runtime's start and exit) and a hello-world; absent where they could not be built.
   */
  runtimeFloors?: { empty: { median: number; p90: number; runs: number }; hello: { median: number; p90: number; runs: number } };
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

/** Builds a compiled Bun program of `source` the way dist/cw is built; undefined if that fails. */
function compiled(dir: string, name: string, source: string): string | undefined {
  const src = join(dir, `${name}.ts`);
  const out = join(dir, name);
  try {
    writeFileSync(src, source);
    run([process.execPath, "build", "--compile", "--bytecode", "--minify", src, "--outfile", out], { timeoutMs: 60_000 });
    return out;
  } catch {
    return undefined;
  }
}

/** cw's side: its node with `sessions` idle sessions, and the floors of a cw command. */
export async function cwScale(cw: Cw, sessions: number, runs: number, cpuWindowS: number): Promise<Omit<ScaleResult, "list">> {
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

/**
 * `cw list` and `tmux ls` against the servers set up above, timed in turns; with them, in the
 * same turns, the runtime's floors (built in `workDir`).
 */
export function listBoth(cw: Cw, tmux: Tmux, sessions: number, runs: number, workDir: string) {
  const cwList = [cw.bin, "list"];
  const tmuxLs = [...tmux.base(), "ls"];
  const cwEnv = cw.env();
  const tmuxEnv = baseEnv();
  const empty = compiled(workDir, "empty", "\n");
  const hello = compiled(workDir, "hello", 'console.log("hello");\n');
  const floors = empty && hello ? { empty: [empty], hello: [hello] } : undefined;
  const floorMs: Record<string, number[]> = { empty: [], hello: [] };
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
  // Then each floor in the same turns with `tmux ls` (those runs not timed: the comparison above
  // has its own). Not mixed into the loop above: there they would change what `cw list` meets
  // (the node idle for longer between lists, another binary run just before it).
  for (const [k, cmd] of Object.entries(floors ?? {})) {
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 1) run(tmuxLs, { env: tmuxEnv });
      floorMs[k]!.push(run(cmd, { env: cwEnv }).ms);
      if (i % 2 === 0) run(tmuxLs, { env: tmuxEnv });
    }
  }
  return {
    cw: summary(cwMs),
    tmux: summary(tmuxMs),
    ...(floors ? { runtimeFloors: { empty: summary(floorMs.empty!), hello: summary(floorMs.hello!) } } : {}),
  };
}
