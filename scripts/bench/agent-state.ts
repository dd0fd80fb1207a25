/**
 * `bun scripts/bench/agent-state.ts` (issue 13): how soon a watcher learns an agent's state, and
 * what keeping agent state costs the node.
 *
 * Stand-in agents, so no vendor is needed: each is a shell loop in a cw session that does what
 * an agent's installed hooks do, `cw hook claude UserPromptSubmit` (JSON on stdin, CW_SESSION_ID
 * set by the node) when a turn starts and `cw hook claude Stop` when it ends, and prints lines
 * while it "works" (as an agent redraws its screen, which makes the node read the screen).
 *
 * - latency: from the moment a stand-in fires a hook (a timestamp taken just before `cw hook`
 *   starts, so cw hook's own start-up is in it, as it is for a real agent) to the moment a
 *   `cw subscribe --event session.state --json` run by this script prints the change. The
 *   hook's own run time (start to exit) is shown beside it, since most of the wait is there.
 * - node CPU: utime+stime of the node from /proc, as a share of one core, over three phases:
 *   ten agents idle (their turns done, quiet); ten working beside them (turns of 0.3 s, 0.5 s
 *   between); and, as the baseline, the same twenty programs printing the same lines without
 *   firing hooks (plain programs, whose screens the node never reads).
 *
 * Every agent runs the same number of turns with the same pacing, so runs differ only by the
 * machine's noise. BENCH_CW picks the binary (default dist/cw): it needs `cw hook`.
 * BENCH_TURNS sets the turns per working agent (default 8).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { Cw } from "./subjects";
import { cpuSeconds, quantile, run } from "./util";

const AGENTS = 10;
const TURNS = Number(process.env.BENCH_TURNS) > 0 ? Number(process.env.BENCH_TURNS) : 8;
const IDLE_WINDOW_MS = 5_000;
const bin = resolve(process.env.BENCH_CW || join(import.meta.dir, "../../dist/cw"));
if (!run([bin, "hook", "--help"], { check: false }).stdout.includes("hook")) {
  // Not a failure of the bench chain: this cw predates agent state.
  console.log(`agent state: skipped, ${bin} has no \`cw hook\` (the agent-state feature); point BENCH_CW at a cw that has it`);
  process.exit(0);
}

/** Wall-clock ms with sub-ms precision, comparable with the stand-ins' `date +%s%N`. */
const nowMs = () => performance.timeOrigin + performance.now();

/**
 * A stand-in agent. With `hooks`, each turn logs "<fired> <returned> <state>" (ns since the
 * epoch) around its cw hook, which is what the latency is measured from. Its work is ten lines
 * 30 ms apart; then 0.5 s of rest. The `sleep`s pace the workload; nothing waits on them.
 */
function agentScript(opts: { hooks: boolean; turns: number; log: string; offsetS: number }): string {
  const hook = (event: string, state: string, json: string) =>
    // Plain programs log the turn too (without the timestamps), so both runs are watched alike.
    opts.hooks ? `t0=$(date +%s%N); echo '${json}' | '${bin}' hook claude ${event}; echo "$t0 $(date +%s%N) ${state}" >> '${opts.log}'` : `echo "0 0 ${state}" >> '${opts.log}'`;
  return [
    `sleep ${opts.offsetS}`,
    `i=0; while [ $i -lt ${opts.turns} ]; do`,
    `  ${hook("UserPromptSubmit", "working", '{"prompt":"go"}')}`,
    `  j=0; while [ $j -lt 10 ]; do printf 'turn %d: step %d of 10, reading files...\\n' $i $j; sleep 0.03; j=$((j+1)); done`,
    `  ${hook("Stop", "idle", "{}")}`,
    "  sleep 0.5; i=$((i+1))",
    "done",
    "exec sleep 3600",
  ].join("\n");
}

interface Seen {
  session: number;
  state: string;
  at: number;
}

/** Runs `cw subscribe` for session.state and keeps what it prints, with when it arrived. */
async function subscribe(cw: Cw): Promise<{ seen: Seen[]; stop: () => void }> {
  const proc = Bun.spawn([bin, "subscribe", "--event", "session.state", "--json"], { env: cw.env(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const seen: Seen[] = [];
  let ready = false;
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      const at = nowMs();
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const e = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        seen.push({ session: e.session_id, state: e.data.state, at });
      }
    }
  })();
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) if (new TextDecoder().decode(chunk).includes("subscribed")) ready = true;
  })();
  const until = Date.now() + 15_000;
  while (!ready) {
    if (Date.now() > until || proc.exitCode !== null) throw new Error("cw subscribe did not say it subscribed");
    await Bun.sleep(10);
  }
  return { seen, stop: () => proc.kill() };
}

/** The node's CPU, as a share of one core, while `during` runs. */
async function cpuShare(pid: number, during: () => Promise<void>): Promise<{ share: number; secs: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await during();
  const secs = (performance.now() - t0) / 1000;
  return { share: (cpuSeconds(pid) - c0) / secs, secs };
}

async function waitUntil(pred: () => boolean, what: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const lines = (path: string) => {
  try {
    return readFileSync(path, "utf8").trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
};

interface Phases {
  idle: number;
  busy: number;
  busySecs: number;
  latency: number[];
  hookRun: number[];
  changes: number;
}

/** One node: ten agents go idle, then ten more work TURNS turns beside them. */
async function measure(hooks: boolean): Promise<Phases> {
  const root = mkdtempSync(join(os.tmpdir(), "cw-bench-agent-state-"));
  const cw = new Cw(bin, join(root, "home"));
  try {
    const pid = cw.start();
    const sub = await subscribe(cw);
    const log = (name: string) => join(root, `${name}.log`);
    // Ten agents that take one turn and then stay idle (quiet) for the rest of the run.
    Array.from({ length: AGENTS }, (_, k) => cw.launchCli(["sh", "-c", agentScript({ hooks, turns: 1, log: log(`idle-${k}`), offsetS: 0 })]));
    await waitUntil(() => Array.from({ length: AGENTS }, (_, k) => k).every((k) => lines(log(`idle-${k}`)).length === 2), "the idle agents' one turn", 30_000);
    const idle = await cpuShare(pid, () => Bun.sleep(IDLE_WINDOW_MS));
    // Ten working beside them, staggered by 80 ms so their hooks do not all fire at once.
    const busyIds: number[] = [];
    const busy = await cpuShare(pid, async () => {
      for (let k = 0; k < AGENTS; k++) busyIds.push(cw.launchCli(["sh", "-c", agentScript({ hooks, turns: TURNS, log: log(`busy-${k}`), offsetS: k * 0.08 })]));
      await waitUntil(() => Array.from({ length: AGENTS }, (_, k) => k).every((k) => lines(log(`busy-${k}`)).length === 2 * TURNS), "the working agents' turns", 120_000);
    });
    // Pair each logged hook with the state change it caused, in order, per session.
    const latency: number[] = [];
    const hookRun: number[] = [];
    let changes = 0;
    if (hooks) {
      await waitUntil(() => busyIds.every((id) => sub.seen.filter((s) => s.session === id).length >= 2 * TURNS), "every state change to reach cw subscribe", 15_000);
      busyIds.forEach((id, k) => {
        const fired = lines(log(`busy-${k}`)).map((l) => l.split(" "));
        const events = sub.seen.filter((s) => s.session === id);
        fired.forEach(([t0, t1, state], n) => {
          const e = events[n]!;
          if (e.state !== state) throw new Error(`session ${id}: hook ${n} said ${state}, cw subscribe saw ${e.state}`);
          latency.push(e.at - Number(t0) / 1e6);
          hookRun.push((Number(t1) - Number(t0)) / 1e6);
        });
      });
      changes = sub.seen.length;
    }
    sub.stop();
    return { idle: idle.share, busy: busy.share, busySecs: busy.secs, latency, hookRun, changes };
  } finally {
    cw.cleanup();
    rmSync(root, { recursive: true, force: true });
  }
}

const ms = (x: number) => (x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(1)} ms`);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const agents = await measure(true);
const plain = await measure(false);

console.log(`agent state: ${AGENTS} idle + ${AGENTS} working stand-in agents (cw hook claude ...), ${TURNS} turns each (loopback, one machine)`);
console.log(`${"hook fired -> cw subscribe sees session.state".padEnd(48)} ${"p50".padStart(9)} ${"p99".padStart(9)} ${"n".padStart(5)}`);
console.log(`${"  latency".padEnd(48)} ${ms(quantile(agents.latency, 0.5)).padStart(9)} ${ms(quantile(agents.latency, 0.99)).padStart(9)} ${String(agents.latency.length).padStart(5)}`);
console.log(`${"  of which cw hook's own run (start to exit)".padEnd(48)} ${ms(quantile(agents.hookRun, 0.5)).padStart(9)} ${ms(quantile(agents.hookRun, 0.99)).padStart(9)} ${String(agents.hookRun.length).padStart(5)}`);
console.log("");
console.log(`${"node CPU (share of one core)".padEnd(30)} ${"with hooks".padStart(11)} ${"plain".padStart(9)} ${"ratio".padStart(7)}`);
console.log(`${`  ${AGENTS} idle`.padEnd(30)} ${pct(agents.idle).padStart(11)} ${pct(plain.idle).padStart(9)} ${(agents.idle / plain.idle).toFixed(2).padStart(7)}`);
console.log(`${`  ${AGENTS} idle + ${AGENTS} working`.padEnd(30)} ${pct(agents.busy).padStart(11)} ${pct(plain.busy).padStart(9)} ${(agents.busy / plain.busy).toFixed(2).padStart(7)}`);
console.log(`(${agents.changes} state changes in ${agents.busySecs.toFixed(1)} s of work with hooks; the plain run took ${plain.busySecs.toFixed(1)} s)`);
process.exit(0);
