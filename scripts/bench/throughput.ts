/**
 * Output throughput: one session prints the payload (lines of 64 bytes, `cat` of a file made
 * beforehand so the producer costs next to nothing), and we time it from launch to the end.
 *
 * - bare PTY: `cat` on a PTY whose master this process drains with blocking read(2) calls.
 * - detached: nobody attached. cw: `cw launch` then `cw wait`; tmux: `new-window` running the
 *   command followed by `wait-for -S`, and `wait-for` on that channel.
 * - attached: a real client on a PTY we drain: `cw attach <id>` / `tmux attach -t <s>`. The
 *   session first waits for a line on stdin; we type Enter into the client's terminal, which
 *   starts the clock, and stop it when the client exits (it has printed everything by then).
 * - cw raw attach (for diagnosis): a protocol client in this process reading the Attach stream,
 *   so the node's share can be told apart from the attach client's.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { BenchPty } from "./pty";
import { baseEnv, COLS, type Cw, ROWS, type Tmux } from "./subjects";
import { alive, cpuSeconds, fmtBytes, MiB, rssBytes } from "./util";

export interface ThroughputResult {
  seconds: number;
  mibPerS: number;
  /** Bytes the measuring side received, where it receives the output. */
  bytesSeen?: number;
  /** CPU seconds the server process (node / tmux server) used during the run. */
  serverCpuS?: number;
  /** cw: the node's own view, created_at to completed_at. */
  nodeSeconds?: number;
  /** Largest RSS of the server seen during the run (sampled five times a second). */
  serverPeakRss?: number;
  /** CPU seconds the attach client used (attached runs). */
  clientCpuS?: number;
}

const LINE = Buffer.from("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n");

/** Writes the payload file: `mib` MiB of 64-byte lines. */
export function makePayload(path: string, mib: number): void {
  const block = Buffer.alloc(MiB);
  for (let off = 0; off < MiB; off += LINE.length) LINE.copy(block, off);
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

function result(mib: number, seconds: number, extra: Partial<ThroughputResult> = {}): ThroughputResult {
  return { seconds, mibPerS: mib / seconds, ...extra };
}

export function bare(payload: string, mib: number, timeoutMs: number): ThroughputResult {
  const t0 = performance.now();
  const p = new BenchPty({ cmd: ["cat", payload], cols: COLS, rows: ROWS });
  try {
    const n = p.drainToEof(t0 + timeoutMs);
    return result(mib, (performance.now() - t0) / 1000, { bytesSeen: n });
  } finally {
    p.close();
  }
}

/** Runs a command that blocks until the run is over, checking on the server meanwhile. */
async function waitCommand(cmd: string[], env: Record<string, string>, timeoutMs: number, check: () => void): Promise<string> {
  const proc = Bun.spawn(cmd, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const until = performance.now() + timeoutMs;
  const out = new Response(proc.stdout).text();
  const err = new Response(proc.stderr).text();
  try {
    for (;;) {
      const done = await Promise.race([proc.exited, Bun.sleep(200).then(() => undefined)]);
      if (done !== undefined) break;
      if (performance.now() > until) throw new Error(`${cmd.join(" ")} timed out`);
      check();
    }
  } finally {
    proc.kill("SIGKILL");
  }
  if (proc.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${proc.exitCode}: ${(await err).trim()}`);
  return out;
}

export async function cwDetached(cw: Cw, nodePid: number, payload: string, mib: number, timeoutMs: number): Promise<ThroughputResult> {
  const cpu0 = cpuSeconds(nodePid);
  const t0 = performance.now();
  const id = cw.launchCli(["cat", payload]);
  const mon = monitor(nodePid);
  const out = await waitCommand([cw.bin, "wait", "--json", String(id)], cw.env(), timeoutMs, mon.check);
  const seconds = (performance.now() - t0) / 1000;
  const s = (JSON.parse(out) as { sessions: { duration_ms: number | null; status: string; exit_code: number | null }[] }).sessions[0]!;
  if (s.status !== "completed" || s.exit_code !== 0) throw new Error(`cw session ended ${s.status} (${s.exit_code})`);
  return result(mib, seconds, { serverCpuS: cpuSeconds(nodePid) - cpu0, nodeSeconds: (s.duration_ms ?? Number.NaN) / 1000, serverPeakRss: mon.peak });
}

let channel = 0;

export async function tmuxDetached(tmux: Tmux, serverPid: number, payload: string, mib: number, timeoutMs: number): Promise<ThroughputResult> {
  const ch = `bench-done-${++channel}`;
  const cpu0 = cpuSeconds(serverPid);
  const t0 = performance.now();
  tmux.cmd(["new-window", "-d", "-t", "keep:", `cat '${payload}'; ${tmux.shellPrefix()} wait-for -S ${ch}`]);
  const mon = monitor(serverPid);
  await waitCommand([...tmux.base(), "wait-for", ch], baseEnv(), timeoutMs, mon.check);
  const seconds = (performance.now() - t0) / 1000;
  return result(mib, seconds, { serverCpuS: cpuSeconds(serverPid) - cpu0, serverPeakRss: mon.peak });
}

/** The session's command when a client attaches first: wait for Enter, then print. */
function gated(payload: string): string[] {
  return ["sh", "-c", `read _ ; exec cat '${payload}'`];
}

/** Above this the server is taken to be running away (a bug), and the run is stopped. */
const RSS_LIMIT = 1024 * MiB;
const STALL_MS = 15_000;

/**
 * Watches the server while a run is in progress: `check` throws when it died or its memory ran
 * away, and records the largest RSS seen.
 */
export function monitor(serverPid: number) {
  const m = {
    peak: 0,
    check: () => {
      if (!alive(serverPid)) throw new Error(`the server (pid ${serverPid}) died`);
      const rss = rssBytes(serverPid);
      m.peak = Math.max(m.peak, rss);
      if (rss > RSS_LIMIT) throw new Error(`the server's RSS reached ${fmtBytes(rss)}; stopped the run`);
    },
  };
  return m;
}

/** Attaches a client on a PTY we own, waits for its first paint, types Enter, drains to its exit. */
function timeAttached(cmd: string[], env: Record<string, string>, mib: number, timeoutMs: number, serverPid: number): ThroughputResult {
  const p = new BenchPty({ cmd, env, cols: COLS, rows: ROWS });
  try {
    if (!p.waitOutput(10_000)) throw new Error(`${cmd.join(" ")} painted nothing`);
    p.drainQuiet(300);
    const cpu0 = cpuSeconds(serverPid);
    const t0 = performance.now();
    p.write("\r");
    const mon = monitor(serverPid);
    const n = p.drainToEof(t0 + timeoutMs, STALL_MS, mon.check);
    const seconds = (performance.now() - t0) / 1000;
    // The client has exited but is not reaped yet (our event loop was busy): its CPU time is readable.
    return result(mib, seconds, { bytesSeen: n, serverCpuS: cpuSeconds(serverPid) - cpu0, serverPeakRss: mon.peak, clientCpuS: cpuSeconds(p.proc.pid) });
  } finally {
    p.close();
  }
}

export async function cwAttached(cw: Cw, nodePid: number, payload: string, mib: number, timeoutMs: number): Promise<ThroughputResult> {
  const s = await cw.launch(gated(payload));
  return timeAttached([cw.bin, "attach", String(s.id)], cw.env(), mib, timeoutMs, nodePid);
}

let attachSession = 0;

export function tmuxAttached(tmux: Tmux, serverPid: number, payload: string, mib: number, timeoutMs: number): ThroughputResult {
  const name = `att${++attachSession}`;
  tmux.cmd(["new-session", "-d", "-s", name, gated(payload).map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ")]);
  return timeAttached([...tmux.base(), "attach", "-t", name], {}, mib, timeoutMs, serverPid);
}

/** A protocol client in this process reading the Attach stream (no terminal, no attach CLI). */
export async function cwRawAttach(cw: Cw, nodePid: number, payload: string, mib: number, timeoutMs: number): Promise<ThroughputResult> {
  const s = await cw.launch(gated(payload));
  const conn = await cw.connect();
  try {
    conn.send({ type: "Attach", id: s.id, history: false, cols: COLS, rows: ROWS });
    const first = await conn.nextReply();
    if (!first || first.type !== "Attached") throw new Error(`attach failed: ${JSON.stringify(first)}`);
    const cpu0 = cpuSeconds(nodePid);
    const t0 = performance.now();
    const deadline = t0 + timeoutMs;
    conn.sendData(Buffer.from("\r"));
    const mon = monitor(nodePid);
    let n = 0;
    let lastData = t0;
    // One outstanding next() at a time: a timed-out race must not leave a second reader behind.
    let pending = conn.next();
    for (;;) {
      const f = await Promise.race([pending, Bun.sleep(200).then(() => "tick" as const)]);
      if (f === "tick") {
        const now = performance.now();
        if (now > deadline) throw new Error(`raw attach timed out after ${n} bytes`);
        if (now - lastData > STALL_MS) throw new Error(`output stalled: nothing for ${STALL_MS / 1000} s after ${n} bytes`);
        mon.check();
        continue;
      }
      pending = conn.next();
      lastData = performance.now();
      if (!f) throw new Error("the node closed the attach stream before AttachEnded");
      if (f.kind === "data") {
        n += f.bytes.length;
        continue;
      }
      const m = f.message as { type: string };
      if (m.type === "AttachEnded") break;
    }
    const seconds = (performance.now() - t0) / 1000;
    mon.check();
    return result(mib, seconds, { bytesSeen: n, serverCpuS: cpuSeconds(nodePid) - cpu0, serverPeakRss: mon.peak });
  } finally {
    conn.close();
  }
}
