/**
 * `bun scripts/bench/agents-load.ts` (issue 14): what carrying real agents costs the server, cw's
 * node against the tmux server, with the real Claude Code instead of a shell loop.
 *
 * The ten spinners of run.ts stand in for agents; this runs the agent itself: BENCH_AGENTS
 * (default 5) Claude Code TUIs (the version pinned in test/agents/package.json), each given a
 * prompt whose turn the vendor's stub (the one allowed mock, on loopback) holds open, so each
 * shows what a working agent shows: its spinner and status line, redrawn several times a second.
 * The same agents, the same way, first under tmux, then under cw:
 *
 * - the server's CPU over a window (BENCH_CPU_WINDOW_S, default 10 s), nobody attached, then with
 *   a real attach client (`cw attach` / `tmux attach`) on each, as cpu.ts measures the spinners;
 * - the agents' own CPU over both windows, to show both servers carried the same load;
 * - what each agent session after the first adds to the server's RSS (the first also starts
 *   cw's screen worker and brings in code both servers share among sessions).
 *
 * Target (the issue's, for an animating TUI): the node's CPU at most 3x the tmux server's. The
 * issue's memory target is for idle sessions (run.ts); a working agent's has none.
 * BENCH_CW picks the binary (default dist/cw).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { claudeHome, READY } from "../../test/fixtures/agent-sessions";
import { AnthropicStub, deferred, type Reply } from "../../test/fixtures/anthropic-stub";
import { agentBin, AGENT_VERSIONS } from "../../test/fixtures/agents";
import { measure } from "./cpu";
import { COLS, Cw, ROWS, Tmux } from "./subjects";
import { cpuSeconds, fmtBytes, rssBytes, run, settledMedian } from "./util";

const AGENTS = Number(process.env.BENCH_AGENTS) > 0 ? Number(process.env.BENCH_AGENTS) : 5;
const WINDOW_S = Number(process.env.BENCH_CPU_WINDOW_S) > 0 ? Number(process.env.BENCH_CPU_WINDOW_S) : 10;
const bin = resolve(process.env.BENCH_CW || join(import.meta.dir, "../../dist/cw"));
const PROMPT = "refactor the parser";
/** What Claude Code shows while a turn is under way (READY: at its composer). */
const WORKING = /esc to interrupt/;

const root = mkdtempSync(join(os.tmpdir(), "cw-bench-agents-"));
// Every main turn stays open until the end: each agent keeps working (and animating) throughout.
const turn = deferred<Reply>();
const stub = new AnthropicStub(() => ({ hold: turn.promise }));

interface Agent {
  /** A tmux session name, or a cw session id. */
  name: string;
  pid: number;
}

interface SideResult {
  detached: number;
  attached: number;
  clients: number;
  agentsCpu: number;
  /** RSS each agent session after the first adds. */
  rssPerAgent: number;
}

/** A throwaway home and project directory for agent `i`, and the environment it runs with. */
function agentSetup(side: string, i: number): { dir: string; env: Record<string, string> } {
  const dir = join(root, `${side}-work-${i}`);
  mkdirSync(dir, { recursive: true });
  return { dir, env: claudeHome(stub, join(root, `${side}-home-${i}`), [dir]) };
}

/** Polls `screen` until it matches `re` (deadline 60 s: Claude Code takes a few seconds to start). */
async function waitScreen(screen: () => string, re: RegExp, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = "";
  while (Date.now() < deadline) {
    last = screen();
    if (re.test(last)) return;
    await Bun.sleep(200);
  }
  throw new Error(`${what}: not seen within 60 s; the screen:\n${last}`);
}

async function side(
  label: string,
  serverPid: number,
  start: (i: number) => Agent,
  screen: (a: Agent) => string,
  type: (a: Agent) => void | Promise<void>,
  attach: (a: Agent) => { cmd: string[]; env: Record<string, string> },
): Promise<SideResult> {
  const agents: Agent[] = [];
  /** Starts agents from..to-1 and waits until each works on its prompt. */
  const working = async (from: number, to: number) => {
    const some: Agent[] = [];
    for (let i = from; i < to; i++) some.push(start(i));
    for (const a of some) await waitScreen(() => screen(a), READY.claude, `${label}: Claude Code's composer in ${a.name}`);
    for (const a of some) await type(a);
    for (const a of some) await waitScreen(() => screen(a), WORKING, `${label}: Claude Code working in ${a.name}`);
    agents.push(...some);
  };
  await working(0, 1);
  const rss1 = await settledMedian(() => rssBytes(serverPid), 2000);
  await working(1, AGENTS);
  const rssN = await settledMedian(() => rssBytes(serverPid), 2000);
  const agentsCpu0 = agents.reduce((s, a) => s + cpuSeconds(a.pid), 0);
  const t0 = performance.now();
  const m = await measure(serverPid, WINDOW_S, () => agents.map(attach));
  // The agents' CPU over the detached window and the attached one together (measure runs both).
  const agentsCpu = (agents.reduce((s, a) => s + cpuSeconds(a.pid), 0) - agentsCpu0) / ((performance.now() - t0) / 1000);
  return { detached: m.detached.server, attached: m.attached.server, clients: m.attached.clients, agentsCpu, rssPerAgent: AGENTS > 1 ? (rssN - rss1) / (AGENTS - 1) : Number.NaN };
}

async function tmuxSide(): Promise<SideResult> {
  const tmux = new Tmux(`cw-bench-agents-${process.pid}`);
  try {
    const pid = tmux.startServer();
    return await side(
      "tmux",
      pid,
      (i) => {
        const { dir, env } = agentSetup("tmux", i);
        const name = `agent${i}`;
        const flags = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
        tmux.cmd(["new-session", "-d", "-s", name, "-x", String(COLS), "-y", String(ROWS), "-c", dir, ...flags, agentBin("claude")]);
        return { name, pid: Number(tmux.cmd(["display-message", "-p", "-t", name, "#{pane_pid}"]).stdout.trim()) };
      },
      (a) => tmux.cmd(["capture-pane", "-p", "-t", a.name]).stdout,
      async (a) => {
        // As a person types it: the text, then Enter once the TUI shows it took the text.
        tmux.cmd(["send-keys", "-t", a.name, "-l", PROMPT]);
        await waitScreen(() => tmux.cmd(["capture-pane", "-p", "-t", a.name]).stdout, new RegExp(`❯\\s${PROMPT}`), `tmux: the prompt typed in ${a.name}`);
        tmux.cmd(["send-keys", "-t", a.name, "Enter"]);
      },
      (a) => ({ cmd: [...tmux.base(), "attach", "-t", a.name], env: {} }),
    );
  } finally {
    tmux.cleanup();
  }
}

async function cwSide(): Promise<SideResult> {
  const cw = new Cw(bin, join(root, "cw-home"));
  try {
    const pid = cw.start();
    return await side(
      "cw",
      pid,
      (i) => {
        const { dir, env } = agentSetup("cw", i);
        const flags = Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
        const s = JSON.parse(cw.cli(["launch", "--json", "--dir", dir, ...flags, "--", agentBin("claude")]).stdout) as { id: number; pid: number };
        return { name: String(s.id), pid: s.pid };
      },
      (a) => cw.cli(["screen", a.name]).stdout,
      // cw send types it as a TUI takes it (paste, Enter after a pause, and checks it was taken).
      (a) => void cw.cli(["send", a.name, PROMPT]),
      (a) => ({ cmd: [cw.bin, "attach", a.name], env: cw.env() }),
    );
  } finally {
    cw.cleanup();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
try {
  console.log(`agents: ${AGENTS} real Claude Code ${AGENT_VERSIONS.claude} sessions, each working (a turn the stub holds open), ${WINDOW_S} s windows`);
  const t = await tmuxSide();
  const c = await cwSide();
  const rows: string[][] = [["metric", "cw", "tmux", "cw/tmux", "target", "result"]];
  for (const k of ["detached", "attached"] as const) {
    const ratio = c[k] / t[k];
    rows.push([`server CPU, ${AGENTS} Claude Code working, ${k}`, pct(c[k]), pct(t[k]), `${ratio.toFixed(2)}x`, "cw <= 3x tmux", ratio <= 3 ? "PASS" : "FAIL"]);
  }
  rows.push([`server RSS per Claude Code session after the first`, fmtBytes(c.rssPerAgent), fmtBytes(t.rssPerAgent), `${(c.rssPerAgent / t.rssPerAgent).toFixed(2)}x`, "-", "-"]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [n, r] of rows.entries()) {
    console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));
    if (n === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
  console.log(`  the agents themselves (same load on both sides): ${pct(c.agentsCpu)} under cw, ${pct(t.agentsCpu)} under tmux`);
  console.log(`  the attach clients together: cw ${pct(c.clients)}, tmux ${pct(t.clients)}`);
} finally {
  turn.release({ text: "done" });
  stub.stop();
  rmSync(root, { recursive: true, force: true });
}
