/**
 * `bun run bench`: cw against tmux and a bare PTY on this machine, in one run.
 *
 *   1. output throughput, detached and with a client attached
 *   2. keystroke echo latency through an attached client (p50, p99), with two yardsticks: the
 *      "bun floor", a bare-bones relay and client in Bun (floor-relay.ts, floor-attach.ts), the
 *      runtime's share; the "poll floor", one Bun process copying bytes in a blocking poll(2)
 *      loop (floor-poll.ts), what Bun can do on this path without its event loop
 *   3. CPU of ten sessions redrawing a spinner at 10 Hz, detached and attached (cpu.ts)
 *   4. listing 100 sessions (`cw list` vs `tmux ls`)
 *   5. resident memory per idle session, and CPU of the idle sessions (cw node vs tmux server)
 *
 * Prints a table with ratios and PASS/FAIL against the targets of issues 2 and 14, and writes
 * .bench/results.json. Everything runs in a temp dir with its own CODEWIRE_HOME and its own tmux
 * socket, and is torn down at the end, also on failure or Ctrl+C.
 *
 * Knobs (environment): BENCH_MIB (payload, default 256), BENCH_RUNS (throughput repetitions,
 * default 1; the median is reported), BENCH_SAMPLES (echo samples per target, default 300), BENCH_SESSIONS
 * (default 100), BENCH_LIST_RUNS (default 30), BENCH_CPU_S (each CPU window, default 10),
 * BENCH_ONLY (comma list of throughput, latency, cpu, scale), BENCH_TIMEOUT_S (whole run, default 420), BENCH_STRICT=1 (exit 2 when a target fails),
 * BENCH_KEEP=1 (keep the temp dir, with the node's log, for a look afterwards), BENCH_CW (the cw
 * binary to measure, default dist/cw).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { type CpuResult, cwSpinners, tmuxSpinners } from "./cpu";
import { CANONICAL_ECHO_PROGRAM, ECHO_PROGRAM, type EchoTarget, type LatencyResult, measureEcho } from "./latency";
import { cwScale, listBoth, type ScaleResult, tmuxScale } from "./scale";
import { Cw, Tmux } from "./subjects";
import * as tp from "./throughput";
import { alive, cpuSeconds, fmtBytes, fmtMs, MiB, peakRssBytes, rssBytes, run } from "./util";

const repo = resolve(import.meta.dir, "../..");
const intEnv = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
};
const cfg = {
  mib: intEnv("BENCH_MIB", 256),
  runs: intEnv("BENCH_RUNS", 1),
  warmup: 30,
  samples: intEnv("BENCH_SAMPLES", 300),
  sessions: intEnv("BENCH_SESSIONS", 100),
  listRuns: intEnv("BENCH_LIST_RUNS", 30),
  timeoutS: intEnv("BENCH_TIMEOUT_S", 420),
  cpuWindowS: intEnv("BENCH_CPU_S", 10),
  only: new Set((process.env.BENCH_ONLY ?? "throughput,latency,cpu,scale").split(",").map((s) => s.trim())),
  strict: process.env.BENCH_STRICT === "1",
};
const deadline = performance.now() + cfg.timeoutS * 1000;
/** Time a step may take: its own bound, and never past the whole run's deadline. */
const budget = (ms: number) => Math.max(1000, Math.min(ms, deadline - performance.now()));

const bin = resolve(process.env.BENCH_CW || join(repo, "dist", "cw"));
if (!existsSync(bin)) {
  console.error(`bench: ${bin} is missing; run \`bun run bench\` (it builds first) or \`bun run build\``);
  process.exit(1);
}

const root = mkdtempSync(join(os.tmpdir(), "cw-bench-"));
/** Every node this run started, for cleanup. */
const nodes: Cw[] = [];
function newCw(name: string): Cw {
  const cw = new Cw(bin, join(root, `home-${name}-${nodes.length}`));
  nodes.push(cw);
  return cw;
}
/** The node for throughput and latency; replaced by a fresh one if a run leaves it unusable. */
let cwA = newCw("throughput");
let nodePidA = 0;
const cwB = newCw("scale");
const tmuxA = new Tmux(`bench-${process.pid}`);
const tmuxB = new Tmux(`bench-${process.pid}-scale`);

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const s of [...nodes, tmuxA, tmuxB]) {
    try {
      s.cleanup();
    } catch (e) {
      console.error(`bench: cleanup: ${(e as Error).message}`);
    }
  }
  if (process.env.BENCH_KEEP === "1") console.error(`bench: kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, cleaning up`);
    cleanup();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${cfg.timeoutS}s (BENCH_TIMEOUT_S); giving up`);
  cleanup();
  process.exit(3);
}, cfg.timeoutS * 1000 + 30_000);
watchdog.unref();

const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const errors: Record<string, string> = {};

async function step<T>(name: string, fn: () => T | Promise<T>, onFail?: () => Promise<string | undefined>): Promise<T | undefined> {
  if (performance.now() > deadline) {
    errors[name] = "skipped: out of time";
    say(`${name}: skipped, out of time`);
    return undefined;
  }
  try {
    return await fn();
  } catch (e) {
    errors[name] = (e as Error).message;
    say(`${name}: FAILED: ${(e as Error).message}`);
    const more = await onFail?.().catch((e2) => `recovery failed: ${(e2 as Error).message}`);
    if (more) {
      errors[name] += `; ${more}`;
      say(`  ${more}`);
    }
    return undefined;
  }
}

/** Does the node answer a Ping within 2 s? */
async function responsive(cw: Cw): Promise<boolean> {
  try {
    const conn = await Promise.race([cw.connect(), Bun.sleep(2000).then(() => undefined)]);
    if (!conn) return false;
    try {
      conn.send({ type: "Ping" });
      const r = await Promise.race([conn.nextReply(), Bun.sleep(2000).then(() => undefined)]);
      return r?.type === "Pong";
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

/** After a failed cw run: if the node no longer answers, say what it was doing and start a fresh one. */
async function recoverCwA(): Promise<string | undefined> {
  if (await responsive(cwA)) return undefined;
  const pid = nodePidA;
  let what = `node pid ${pid} unresponsive`;
  if (alive(pid)) {
    const c0 = cpuSeconds(pid);
    await Bun.sleep(1000);
    what += ` (main thread busy: ${Math.round((cpuSeconds(pid) - c0) * 100)}% CPU, RSS ${fmtBytes(rssBytes(pid))})`;
    process.kill(pid, "SIGKILL");
  }
  cwA.cleanup();
  cwA = newCw("throughput");
  nodePidA = cwA.start();
  return `${what}; killed it and started a fresh node for the remaining runs`;
}

// ---- 1. throughput --------------------------------------------------------------------------

type Tp = tp.ThroughputResult;
const throughput: Record<string, Tp | undefined> = {};
let nodePeakRss: number | undefined;

async function repeated(name: string, fn: () => Tp | Promise<Tp>, onFail?: () => Promise<string | undefined>): Promise<void> {
  const got: Tp[] = [];
  for (let i = 0; i < cfg.runs; i++) {
    const r = await step(name, fn, onFail);
    if (!r) break;
    say(`  ${name}: ${r.seconds.toFixed(2)} s, ${r.mibPerS.toFixed(1)} MiB/s${r.serverCpuS !== undefined ? `, server CPU ${r.serverCpuS.toFixed(2)} s` : ""}`);
    got.push(r);
  }
  if (got.length === cfg.runs) throughput[name] = got.sort((a, b) => a.seconds - b.seconds)[Math.floor((got.length - 1) / 2)];
}

async function throughputSuite() {
  const payload = join(root, "payload");
  say(`throughput: writing a ${cfg.mib} MiB payload (64-byte lines)`);
  tp.makePayload(payload, cfg.mib);
  run(["cat", payload], { timeoutMs: 60_000 }); // into the page cache
  nodePidA = cwA.start();
  const tmuxPid = tmuxA.startServer();
  tmuxA.cmd(["new-session", "-d", "-s", "keep", "sleep 3600"]);
  const t = () => budget(120_000);
  say("throughput: bare PTY / tmux / cw, nobody attached");
  await repeated("bare", () => tp.bare(payload, cfg.mib, t()));
  await repeated("tmux detached", () => tp.tmuxDetached(tmuxA, tmuxPid, payload, cfg.mib, t()));
  await repeated("cw detached", () => tp.cwDetached(cwA, nodePidA, payload, cfg.mib, t()), recoverCwA);
  say("throughput: with a client attached");
  await repeated("tmux attached", () => tp.tmuxAttached(tmuxA, tmuxPid, payload, cfg.mib, t()));
  await repeated("cw attached", () => tp.cwAttached(cwA, nodePidA, payload, cfg.mib, t()), recoverCwA);
  await repeated("cw raw attach", () => tp.cwRawAttach(cwA, nodePidA, payload, cfg.mib, t()), recoverCwA);
  nodePeakRss = peakRssBytes(nodePidA);
}

// ---- 2. latency -----------------------------------------------------------------------------

/** Typing (targets take turns, ~180 ms between one target's keys): the measurement with a target. */
const latency: Record<string, LatencyResult | undefined> = {};
/** Burst (5-30 ms between keys, one target at a time): for information. */
const burst: Record<string, LatencyResult | undefined> = {};
/** Typing into a program in canonical mode (the kernel echoes): bare, tmux and cw. */
const canonical: Record<string, LatencyResult | undefined> = {};

/** The "bun floor" target: floor-relay.ts and floor-attach.ts, a bare-bones relay and client in Bun. */
const FLOOR = "bun floor";
/** The "poll floor" target: floor-poll.ts, one Bun process between the terminal and the PTY, no event loop. */
const POLL_FLOOR = "poll floor";

async function startFloor(socket: string) {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "floor-relay.ts"), socket], { stdout: "pipe", stderr: "inherit" });
  const first = await proc.stdout.getReader().read();
  if (!new TextDecoder().decode(first.value).includes("ready")) throw new Error("floor-relay.ts did not start");
  return { proc, socket };
}

async function latencySuite() {
  if (!nodePidA || !alive(nodePidA)) nodePidA = cwA.start();
  try {
    tmuxA.serverPid();
  } catch {
    tmuxA.startServer();
  }
  const report = (name: string, r: LatencyResult) =>
    say(`  ${name}: p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}, max ${fmtMs(r.max)}${r.timeouts ? `, ${r.timeouts} lost` : ""}`);
  tmuxA.cmd(["new-session", "-d", "-s", "echo", ECHO_PROGRAM.map((a) => `'${a}'`).join(" ")]);
  const s = await cwA.launch(ECHO_PROGRAM);
  const floor = await startFloor(join(root, "floor.sock"));
  const targets: EchoTarget[] = [
    { name: "bare", cmd: ECHO_PROGRAM, env: {}, paints: false },
    { name: FLOOR, cmd: [process.execPath, join(import.meta.dir, "floor-attach.ts"), floor.socket], env: {}, paints: true },
    { name: POLL_FLOOR, cmd: [process.execPath, join(import.meta.dir, "floor-poll.ts")], env: {}, paints: true },
    { name: "tmux", cmd: [...tmuxA.base(), "attach", "-t", "echo"], env: {}, paints: true },
    { name: "cw", cmd: [cwA.bin, "attach", String(s.id)], env: cwA.env(), paints: true },
  ];
  try {
    say(`latency, typing: ${cfg.samples} keystrokes per target after ${cfg.warmup} warm-up, targets taking turns`);
    const typing = await step("latency typing", () => measureEcho(targets, { warmup: cfg.warmup, samples: cfg.samples, gapMin: 35, gapMax: 85 }), recoverCwA);
    for (const [k, v] of Object.entries(typing ?? {})) {
      latency[k] = v;
      report(k, v);
    }
    const n = Math.max(50, Math.floor(cfg.samples / 2));
    say(`latency, burst: ${n} keystrokes 5-30 ms apart, one target at a time`);
    for (const t of targets) {
      const r = await step(`latency burst ${t.name}`, () => measureEcho([t], { warmup: 20, samples: n, gapMin: 5, gapMax: 30 }), t.name === "cw" ? recoverCwA : undefined);
      if (r) {
        burst[t.name] = r[t.name];
        report(t.name, r[t.name]!);
      }
    }
  } finally {
    floor.proc.kill("SIGKILL");
    tmuxA.cmd(["kill-session", "-t", "echo"]);
    if (alive(nodePidA)) cwA.cli(["kill", String(s.id)]);
  }
  await canonicalSuite(report);
}

/** Typing, as above, into `cat` in canonical mode: the echo comes from the session's line discipline. */
async function canonicalSuite(report: (name: string, r: LatencyResult) => void) {
  tmuxA.cmd(["new-session", "-d", "-s", "canon", CANONICAL_ECHO_PROGRAM.map((a) => `'${a}'`).join(" ")]);
  const s = await cwA.launch(CANONICAL_ECHO_PROGRAM);
  const targets: EchoTarget[] = [
    { name: "bare", cmd: CANONICAL_ECHO_PROGRAM, env: {}, paints: false },
    { name: POLL_FLOOR, cmd: [process.execPath, join(import.meta.dir, "floor-poll.ts"), "canonical"], env: {}, paints: true },
    { name: "tmux", cmd: [...tmuxA.base(), "attach", "-t", "canon"], env: {}, paints: true },
    { name: "cw", cmd: [cwA.bin, "attach", String(s.id)], env: cwA.env(), paints: true },
  ];
  try {
    say(`latency, canonical mode: ${cfg.samples} keystrokes per target, targets taking turns`);
    const r = await step("latency canonical", () => measureEcho(targets, { warmup: cfg.warmup, samples: cfg.samples, gapMin: 35, gapMax: 85 }), recoverCwA);
    for (const [k, v] of Object.entries(r ?? {})) {
      canonical[k] = v;
      report(k, v);
    }
  } finally {
    tmuxA.cmd(["kill-session", "-t", "canon"]);
    if (alive(nodePidA)) cwA.cli(["kill", String(s.id)]);
  }
}

// ---- 3. CPU of animated sessions ----------------------------------------------------------

const SPINNERS = 10;
const cpu: Record<string, CpuResult | undefined> = {};

async function cpuSuite() {
  const cw = newCw("cpu");
  const tmux = new Tmux(`bench-${process.pid}-cpu`);
  try {
    const nodePid = cw.start();
    const tmuxPid = tmux.startServer();
    say(`cpu: ${SPINNERS} sessions redrawing a spinner at 10 Hz, ${cfg.cpuWindowS} s windows, detached then attached`);
    const t = await step("cpu tmux", () => tmuxSpinners(tmux, tmuxPid, SPINNERS, cfg.cpuWindowS));
    const c = await step("cpu cw", () => cwSpinners(cw, nodePid, SPINNERS, cfg.cpuWindowS));
    cpu["tmux detached"] = t?.detached;
    cpu["tmux attached"] = t?.attached;
    cpu["cw detached"] = c?.detached;
    cpu["cw attached"] = c?.attached;
    for (const [k, v] of Object.entries(cpu)) if (v) say(`  ${k}: server ${pct(v.server)}${v.clients !== undefined ? `, clients ${pct(v.clients)}` : ""}`);
  } finally {
    tmux.cleanup();
    cw.cleanup();
  }
}

const pct = (share: number) => `${(share * 100).toFixed(2)}%`;

// ---- 4 + 5. many sessions: list and memory ---------------------------------------------------

const scale: { cw?: ScaleResult; tmux?: ScaleResult } = {};

async function scaleSuite() {
  say(`scale: ${cfg.sessions} idle sessions (sleep 3600), fresh servers`);
  const tmuxSide = await step("scale tmux", () => tmuxScale(tmuxB, cfg.sessions, cfg.cpuWindowS));
  const cwSide = await step("scale cw", () => cwScale(cwB, cfg.sessions, cfg.listRuns, cfg.cpuWindowS));
  const lists = tmuxSide && cwSide ? await step("list cw and tmux", async () => listBoth(cwB, tmuxB, cfg.sessions, cfg.listRuns, root)) : undefined;
  if (tmuxSide && lists) scale.tmux = { ...tmuxSide, list: lists.tmux };
  if (cwSide && lists) scale.cw = { ...cwSide, list: lists.cw, ...(lists.runtimeFloors ? { runtimeFloors: lists.runtimeFloors } : {}) };
  if (scale.tmux) say(`  tmux: ls ${fmtMs(scale.tmux.list.median)}, RSS ${fmtBytes(scale.tmux.rss0)} → ${fmtBytes(scale.tmux.rssN)}`);
  if (scale.cw) say(`  cw: list ${fmtMs(scale.cw.list.median)}, RSS ${fmtBytes(scale.cw.rss0)} → ${fmtBytes(scale.cw.rssN)}`);
  tmuxB.cleanup();
  cwB.cleanup();
}

// ---- the report -----------------------------------------------------------------------------

interface Row {
  metric: string;
  cw?: number;
  tmux?: number;
  bare?: number;
  unit: "MiB/s" | "ms" | "bytes" | "cpu";
  target: string;
  pass?: boolean;
}

function rows(): Row[] {
  const out: Row[] = [];
  const mibps = (k: string) => throughput[k]?.mibPerS;
  const both = (a?: number, b?: number) => a !== undefined && b !== undefined;
  out.push({
    metric: `throughput ${cfg.mib} MiB, detached`,
    cw: mibps("cw detached"),
    tmux: mibps("tmux detached"),
    bare: mibps("bare"),
    unit: "MiB/s",
    target: "cw >= tmux",
    pass: both(mibps("cw detached"), mibps("tmux detached")) ? mibps("cw detached")! >= mibps("tmux detached")! : undefined,
  });
  out.push({
    metric: `throughput ${cfg.mib} MiB, attached`,
    cw: mibps("cw attached"),
    tmux: mibps("tmux attached"),
    bare: mibps("bare"),
    unit: "MiB/s",
    target: "cw >= tmux",
    pass: both(mibps("cw attached"), mibps("tmux attached")) ? mibps("cw attached")! >= mibps("tmux attached")! : undefined,
  });
  // Echo, in each way it is measured (issue 14): p50 at most tmux's, p99 within 1 ms of the bare PTY.
  const echoRows = (mode: string, r: Record<string, LatencyResult | undefined>) => {
    const { cw, tmux, bare } = r;
    out.push({ metric: `echo latency p50 (${mode})`, cw: cw?.p50, tmux: tmux?.p50, bare: bare?.p50, unit: "ms", target: "cw <= tmux", pass: cw && tmux ? cw.p50 <= tmux.p50 : undefined });
    out.push({ metric: `echo latency p99 (${mode})`, cw: cw?.p99, tmux: tmux?.p99, bare: bare?.p99, unit: "ms", target: "cw <= bare + 1 ms", pass: cw && bare ? cw.p99 <= bare.p99 + 1 : undefined });
  };
  echoRows("typing", latency);
  echoRows("bursts", burst);
  echoRows("canonical", canonical);
  out.push({
    metric: `list, ${cfg.sessions} sessions (median)`,
    cw: scale.cw?.list.median,
    tmux: scale.tmux?.list.median,
    unit: "ms",
    target: "cw <= 1.5x tmux",
    pass: both(scale.cw?.list.median, scale.tmux?.list.median) ? scale.cw!.list.median <= 1.5 * scale.tmux!.list.median : undefined,
  });
  for (const k of ["detached", "attached"]) {
    const c = cpu[`cw ${k}`]?.server;
    const t = cpu[`tmux ${k}`]?.server;
    out.push({ metric: `CPU, ${SPINNERS} spinners at 10 Hz, ${k}`, cw: c, tmux: t, unit: "cpu", target: "cw <= 3x tmux", pass: both(c, t) ? c! <= 3 * t! : undefined });
  }
  out.push({
    metric: `CPU, ${cfg.sessions} idle sessions`,
    cw: scale.cw?.idleCpu,
    tmux: scale.tmux?.idleCpu,
    unit: "cpu",
    target: "cw < 0.5% of a core",
    pass: scale.cw?.idleCpu !== undefined ? scale.cw.idleCpu < 0.005 : undefined,
  });
  out.push({
    metric: "RSS per idle session",
    cw: scale.cw?.perSession,
    tmux: scale.tmux?.perSession,
    unit: "bytes",
    target: "cw <= 150 KiB",
    pass: scale.cw ? scale.cw.perSession <= 150 * 1024 : undefined,
  });
  out.push({ metric: "RSS of an idle node", cw: scale.cw?.rss0, tmux: scale.tmux?.rss0, unit: "bytes", target: "cw < 40 MiB", pass: scale.cw ? scale.cw.rss0 < 40 * MiB : undefined });
  for (const k of ["detached", "attached"]) {
    const c = throughput[`cw ${k}`]?.serverPeakRss;
    const t = throughput[`tmux ${k}`]?.serverPeakRss;
    out.push({ metric: `peak RSS, ${cfg.mib} MiB through, ${k}`, cw: c, tmux: t, unit: "bytes", target: "cw < 100 MiB", pass: c !== undefined ? c < 100 * MiB : undefined });
  }
  return out;
}

function fmt(v: number | undefined, unit: Row["unit"]): string {
  if (v === undefined || !Number.isFinite(v)) return "-";
  if (unit === "MiB/s") return `${v.toFixed(1)} MiB/s`;
  if (unit === "ms") return fmtMs(v);
  if (unit === "cpu") return `${(v * 100).toFixed(2)}% core`;
  return fmtBytes(v);
}

function ratio(a?: number, b?: number): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "-";
  return `${(a / b).toFixed(2)}x`;
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

function printReport(rs: Row[]) {
  const body = rs.map((r) => [
    r.metric,
    fmt(r.cw, r.unit),
    fmt(r.tmux, r.unit),
    fmt(r.bare, r.unit),
    ratio(r.cw, r.tmux),
    ratio(r.cw, r.bare),
    r.target,
    r.pass === undefined ? (r.target === "-" ? "" : "n/a") : r.pass ? "PASS" : "FAIL",
  ]);
  console.log();
  console.log(table(["metric", "cw", "tmux", "bare PTY", "cw/tmux", "cw/bare", "target", "result"], body));
  const floor = latency[FLOOR];
  if (floor)
    console.log(
      `\n  ${FLOOR} (typing): p50 ${fmtMs(floor.p50)}, p99 ${fmtMs(floor.p99)}: a bare-bones relay and attach client in Bun ` +
        `(raw bytes, no frames, log or screen; scripts/bench/floor-*.ts), what the runtime alone costs here.`,
    );
  const pollFloor = latency[POLL_FLOOR];
  if (pollFloor)
    console.log(
      `  ${POLL_FLOOR} (typing): p50 ${fmtMs(pollFloor.p50)}, p99 ${fmtMs(pollFloor.p99)}: one Bun process between the terminal ` +
        `and the PTY, copying in a blocking poll(2) loop (scripts/bench/floor-poll.ts), what Bun reaches without its event loop.`,
    );
  const pollCanonical = canonical[POLL_FLOOR];
  if (pollCanonical)
    console.log(
      `  ${POLL_FLOOR} (canonical): p50 ${fmtMs(pollCanonical.p50)}, p99 ${fmtMs(pollCanonical.p99)}: the same one thread reading both the ` +
        `terminal and the PTY, as tmux's server does; cw's lane thread does both too (a direct terminal, CODEWIRE_PTY_LANES=0, reads the keys on one thread and the echo on another).`,
    );

  const notes: string[] = [];
  const raw = throughput["cw raw attach"];
  if (raw) notes.push(`cw raw attach (protocol client in-process, no terminal): ${raw.mibPerS.toFixed(1)} MiB/s, node CPU ${raw.serverCpuS?.toFixed(2)} s, node peak RSS ${fmtBytes(raw.serverPeakRss ?? Number.NaN)}`);
  for (const k of ["tmux detached", "cw detached", "tmux attached", "cw attached"]) {
    const r = throughput[k];
    if (r?.serverCpuS !== undefined)
      notes.push(
        `${k}: ${r.seconds.toFixed(2)} s wall, server CPU ${r.serverCpuS.toFixed(2)} s` +
          (r.serverPeakRss ? `, server peak RSS ${fmtBytes(r.serverPeakRss)}` : "") +
          (r.nodeSeconds !== undefined ? `, node-side ${r.nodeSeconds.toFixed(2)} s` : "") +
          (r.clientCpuS !== undefined && Number.isFinite(r.clientCpuS) ? `, client CPU ${r.clientCpuS.toFixed(2)} s` : "") +
          (r.bytesSeen !== undefined ? `, client terminal got ${fmtBytes(r.bytesSeen)}` : ""),
      );
  }
  if (nodePeakRss) notes.push(`cw node peak RSS during the throughput runs: ${fmtBytes(nodePeakRss)}`);
  const floors = scale.cw?.runtimeFloors;
  const ofTmux = (ms: number) => (scale.tmux ? ` (${(ms / scale.tmux.list.median).toFixed(2)}x tmux ls)` : "");
  if (floors)
    notes.push(
      `list floors, each timed beside a tmux ls as cw list is: a compiled Bun program that does nothing ${fmtMs(floors.empty.median)}${ofTmux(floors.empty.median)}, ` +
        `a compiled hello-world ${fmtMs(floors.hello.median)}${ofTmux(floors.hello.median)}`,
    );
  if (scale.cw?.startupFloor)
    notes.push(`cw --version run back to back ${fmtMs(scale.cw.startupFloor.median)}; ListSessions round trip from a running client: ${fmtMs(scale.cw.rpc!.median)}`);
  if (scale.cw) {
    const k = scale.cw.rss0Kinds;
    const kinds = k ? ` (anonymous ${fmtBytes(k.anon)}, file-backed ${fmtBytes(k.file)}: the binary's code and bundle, shared by every cw process)` : "";
    notes.push(`cw node RSS: ${fmtBytes(scale.cw.rss0)} idle${kinds}, ${fmtBytes(scale.cw.rssN)} with ${cfg.sessions} sessions`);
  }
  if (scale.tmux) notes.push(`tmux server RSS: ${fmtBytes(scale.tmux.rss0)} idle, ${fmtBytes(scale.tmux.rssN)} with ${cfg.sessions} sessions`);
  for (const k of ["tmux attached", "cw attached"]) {
    const v = cpu[k];
    if (v?.clients !== undefined) notes.push(`CPU of the ${SPINNERS} attach clients, ${k.split(" ")[0]}: ${pct(v.clients)} of a core together`);
  }
  for (const [k, v] of Object.entries(latency)) if (v) notes.push(`echo typing ${k}: p90 ${fmtMs(v.p90)}, max ${fmtMs(v.max)}, mean ${fmtMs(v.mean)}, ${v.samples} samples${v.timeouts ? `, ${v.timeouts} lost` : ""}`);
  for (const [k, v] of Object.entries(burst)) if (v) notes.push(`echo burst ${k}: p50 ${fmtMs(v.p50)}, p99 ${fmtMs(v.p99)}, max ${fmtMs(v.max)}, ${v.samples} samples${v.timeouts ? `, ${v.timeouts} lost` : ""}`);
  for (const [k, v] of Object.entries(errors)) notes.push(`ERROR ${k}: ${v}`);
  console.log();
  for (const n of notes) console.log(`  ${n}`);
  console.log(
    `\n  bare PTY = \`cat\` on a PTY opened with openpty(3) via bun:ffi, master drained with blocking read(2); ` +
      `payload lines are 64 bytes (65 on the terminal, onlcr); sessions ${120}x${40}; ` +
      `cw's terminals: ${process.env.BENCH_PTY === "bun-pty" ? "bun-pty (BENCH_PTY=bun-pty)" : process.env.BENCH_PTY === "bun" ? "Bun's own PTY (BENCH_PTY=bun)" : "the node's default (BENCH_PTY=bun or bun-pty to choose)"}.`,
  );
}

function machine() {
  const tryRun = (cmd: string[]) => {
    try {
      return run(cmd, { check: false }).stdout.trim();
    } catch {
      return undefined;
    }
  };
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    mem_bytes: os.totalmem(),
    kernel: os.release(),
    bun: Bun.version,
    tmux: tryRun(["tmux", "-V"]),
    cw: tryRun([bin, "--version"]),
    commit: tryRun(["git", "-C", repo, "rev-parse", "--short", "HEAD"]),
  };
}

// ---- main -----------------------------------------------------------------------------------

const started = performance.now();
say(`temp dir ${root}; cw ${bin}; tmux socket ${tmuxA.socket}`);
try {
  if (cfg.only.has("throughput")) await step("throughput", throughputSuite);
  if (cfg.only.has("latency")) await step("latency", latencySuite);
  cwA.cleanup();
  tmuxA.cleanup();
  if (cfg.only.has("cpu")) await step("cpu", cpuSuite);
  if (cfg.only.has("scale")) await step("scale", scaleSuite);
} finally {
  cleanup();
}
const rs = rows();
printReport(rs);
const elapsed = (performance.now() - started) / 1000;
console.log(`\n  total ${elapsed.toFixed(0)} s`);

const outFile = join(repo, ".bench", "results.json");
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      at: new Date().toISOString(),
      machine: machine(),
      config: { ...cfg, only: [...cfg.only] },
      elapsed_s: elapsed,
      table: rs.map((r) => ({ ...r, cw_over_tmux: r.cw !== undefined && r.tmux ? r.cw / r.tmux : null, cw_over_bare: r.cw !== undefined && r.bare ? r.cw / r.bare : null })),
      throughput,
      latency,
      latency_burst: burst,
      latency_canonical: canonical,
      scale,
      cpu,
      node_peak_rss: nodePeakRss,
      errors,
    },
    null,
    2,
  )}\n`,
);
console.log(`  results written to ${outFile}`);
const failed = rs.some((r) => r.pass === false);
process.exit(Object.keys(errors).length ? 1 : cfg.strict && failed ? 2 : 0);
