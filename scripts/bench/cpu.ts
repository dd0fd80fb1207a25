/**
 * What a node costs while its sessions do what agents do most of the time: redraw a spinner, or
 * wait. Measured as CPU-seconds (utime + stime of every thread, from /proc/<pid>/stat) over a
 * fixed window, which stays meaningful on a machine other work loads too, and compared with the
 * tmux server measured the same way for the same windows in the same run.
 *
 * - spinners: ten sessions each redrawing one line at 10 Hz (`\r| working`, as an agent's status
 *   line does), nobody attached, then with one client attached to each (a real `cw attach` /
 *   `tmux attach` on a PTY this process drains).
 * - idle: the many sleeping sessions of the scale suite (scale.ts measures that one).
 */
import { BenchPty } from "./pty";
import { COLS, type Cw, ROWS, type Tmux } from "./subjects";
import { cpuSeconds } from "./util";

export const SPINNER = ["sh", "-c", `while :; do for c in '|' / - '\\'; do printf '\\r%s working' "$c"; sleep 0.1; done; done`];

export interface CpuResult {
  /** CPU-seconds of the server over the window, divided by the window: 0.01 is 1% of a core. */
  server: number;
  /** Attached runs: CPU of all attach clients together, the same way. */
  clients?: number;
  windowS: number;
}

/** The share of a core `pids` used over `windowS` seconds, while `during` runs (if given) every 500 ms. */
export async function cpuShare(pids: number[], windowS: number, during?: () => void): Promise<number> {
  const sum = () => pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const c0 = sum();
  const t0 = performance.now();
  const end = t0 + windowS * 1000;
  while (performance.now() < end) {
    await Bun.sleep(Math.min(500, Math.max(0, end - performance.now())));
    during?.();
  }
  const c1 = sum();
  return (c1 - c0) / ((performance.now() - t0) / 1000);
}

/** Attaches `cmds` on PTYs of their own and waits until each has painted. */
function attachAll(cmds: { cmd: string[]; env: Record<string, string> }[]): BenchPty[] {
  const clients: BenchPty[] = [];
  try {
    for (const { cmd, env } of cmds) {
      const p = new BenchPty({ cmd, env, cols: COLS, rows: ROWS });
      clients.push(p);
      if (!p.waitOutput(10_000)) throw new Error(`${cmd.join(" ")} painted nothing`);
    }
    return clients;
  } catch (e) {
    for (const c of clients) c.close();
    throw e;
  }
}

/** Reads what the clients printed so far, so none blocks on a full terminal. */
function drain(clients: BenchPty[]): void {
  for (const c of clients) c.drainQuiet(0, 50);
}

export async function measure(serverPid: number, windowS: number, attach: () => { cmd: string[]; env: Record<string, string> }[]) {
  await Bun.sleep(1000); // the spinners are running, start-up costs are over
  const detached = await cpuShare([serverPid], windowS);
  const clients = attachAll(attach());
  try {
    drain(clients);
    await Bun.sleep(1000);
    drain(clients);
    const pids = clients.map((c) => c.proc.pid);
    const cpu0 = pids.reduce((a, p) => a + cpuSeconds(p), 0);
    const t0 = performance.now();
    const server = await cpuShare([serverPid], windowS, () => drain(clients));
    const clientsShare = (pids.reduce((a, p) => a + cpuSeconds(p), 0) - cpu0) / ((performance.now() - t0) / 1000);
    return { detached: { server: detached, windowS }, attached: { server, clients: clientsShare, windowS } };
  } finally {
    for (const c of clients) c.close();
  }
}

export async function cwSpinners(cw: Cw, nodePid: number, n: number, windowS: number) {
  const ids: number[] = [];
  try {
    for (let i = 0; i < n; i++) ids.push((await cw.launch(SPINNER)).id);
    return await measure(nodePid, windowS, () => ids.map((id) => ({ cmd: [cw.bin, "attach", String(id)], env: cw.env() })));
  } finally {
    if (ids.length) cw.cli(["kill", ...ids.map(String)]);
  }
}

export async function tmuxSpinners(tmux: Tmux, serverPid: number, n: number, windowS: number) {
  const names = Array.from({ length: n }, (_, i) => `spin${i}`);
  const quoted = SPINNER.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  try {
    for (const s of names) tmux.cmd(["new-session", "-d", "-s", s, "-x", String(COLS), "-y", String(ROWS), quoted]);
    return await measure(serverPid, windowS, () => names.map((s) => ({ cmd: [...tmux.base(), "attach", "-t", s], env: {} })));
  } finally {
    for (const s of names) tmux.cmd(["kill-session", "-t", s]);
  }
}
