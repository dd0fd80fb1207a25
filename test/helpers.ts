/**
 * Test harness: every test gets its own data dir (CODEWIRE_HOME), drives the compiled dist/cw
 * as a user would, and stops whatever it started. Waits are polls with a deadline, never sleeps.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const CW = resolve(import.meta.dir, "../dist/cw");
if (!existsSync(CW)) throw new Error(`${CW} is missing: run \`bun run build\` first (bun run test does)`);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's worker threads (Bun names each thread of a Worker "Worker"). */
export function workerThreads(): number {
  return readdirSync("/proc/self/task").filter((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === "Worker";
    } catch {
      return false; // the thread exited meanwhile
    }
  }).length;
}

/** Polls `fn` until it returns a truthy value; fails with `what` after the deadline. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await Bun.sleep(everyMs);
  }
}

export class CwHome {
  readonly dir: string;
  readonly env: Record<string, string>;

  constructor(extraEnv: Record<string, string> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "cw-test-"));
    this.env = { ...(process.env as Record<string, string>), CODEWIRE_HOME: this.dir, NO_COLOR: "1", ...extraEnv };
    // The CI runner's CI=true is not a user's: under it Gemini CLI turns non-interactive and
    // never draws its TUI, so sessions here start without it.
    if (!("CI" in extraEnv)) delete this.env.CI;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Runs `cw args...` to completion. */
  async run(args: string[], opts: { stdin?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const p = Bun.spawn([CW, ...args], {
      env: { ...this.env, ...opts.env },
      cwd: opts.cwd ?? this.dir,
      stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  /** Runs cw and expects success; returns stdout. */
  async ok(args: string[], opts?: Parameters<CwHome["run"]>[1]): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`cw ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  /** Starts a long-running cw process (watch, subscribe, logs -f) with piped output. */
  spawn(args: string[]) {
    return Bun.spawn([CW, ...args], { env: this.env, cwd: this.dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  }

  async launch(command: string[], flags: string[] = []): Promise<number> {
    const out = await this.ok(["launch", ...flags, "--", ...command]);
    return Number(out.trim());
  }

  async list(): Promise<Array<Record<string, any>>> {
    return JSON.parse(await this.ok(["list", "--json"]));
  }

  async session(id: number | string): Promise<Record<string, any>> {
    const s = (await this.list()).find((x) => x.id === id || x.name === id);
    if (!s) throw new Error(`no session ${id}`);
    return s;
  }

  async waitStatus(id: number, status: string, timeoutMs = 10_000) {
    return waitFor(async () => {
      const s = await this.session(id);
      return s.status === status ? s : undefined;
    }, `session ${id} to be ${status}`, timeoutMs);
  }

  nodePid(): number | undefined {
    try {
      return Number(readFileSync(this.path("codewire.pid"), "utf8").trim()) || undefined;
    } catch {
      return undefined;
    }
  }

  /** Stops the node (gracefully, then by force) and removes the data dir. */
  async cleanup() {
    const pid = this.nodePid();
    await this.run(["stop"], { timeoutMs: 10_000 }).catch(() => {});
    if (pid) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    // Whatever a session left behind (an agent's daemon in a session of its own) still carries
    // this data dir in its environment: a test kills what it starts.
    for (const pid of processesWithEnv(`CODEWIRE_HOME=${this.dir}`)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone meanwhile */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Pids of this user's processes whose environment holds `entry` (KEY=value) exactly. */
export function processesWithEnv(entry: string): number[] {
  const pids: number[] = [];
  const want = Buffer.from(`${entry}\0`);
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`);
      if (env.indexOf(want) === 0 || env.indexOf(Buffer.concat([Buffer.from("\0"), want])) >= 0) pids.push(Number(name));
    } catch {
      /* not ours, or gone */
    }
  }
  return pids;
}

/** A private tmux server for looking at what a person sees. */
export class Tmux {
  readonly socket = `cwtest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  /**
   * The session's current window, named exactly: a bare "t" is first read as a window whose
   * name starts with "t", and a window just made by new-window is called "tmux" until
   * automatic-rename catches up (keys meant for window 0 went to window 1).
   */
  readonly target = "=t:";

  async cmd(...args: string[]): Promise<string> {
    const p = Bun.spawn(["tmux", "-L", this.socket, ...args], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`tmux ${args.join(" ")}: ${err}`);
    return out;
  }

  /** Starts a session running `command` (a shell line) in a pane of the given size. */
  async start(command: string, env: Record<string, string>, cols = 100, rows = 30) {
    const exports = Object.entries(env)
      .filter(([k]) => k === "CODEWIRE_HOME" || k === "NO_COLOR")
      .map(([k, v]) => `${k}=${shq(v)}`)
      .join(" ");
    await this.cmd("new-session", "-d", "-s", "t", "-x", String(cols), "-y", String(rows), `env ${exports} TERM=xterm-256color ${command}; echo "[exit $?]"; sleep 600`);
  }

  capture(): Promise<string> {
    return this.cmd("capture-pane", "-p", "-t", this.target);
  }

  async keys(...keys: string[]) {
    await this.cmd("send-keys", "-t", this.target, ...keys);
  }

  /** Sends literal text (no key-name lookup). */
  async type(text: string) {
    await this.cmd("send-keys", "-t", this.target, "-l", text);
  }

  async waitScreen(pred: (screen: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    let last = "";
    try {
      return await waitFor(async () => {
        last = await this.capture();
        return pred(last) ? last : undefined;
      }, what, timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- screen ---\n${last}`);
    }
  }

  async kill() {
    await this.cmd("kill-server").catch(() => {});
  }
}

export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Collects a child's output stream as it arrives: read `.text` any time, await `.done` at the end. */
export function capture(stream: ReadableStream<Uint8Array>): { readonly text: string; done: Promise<void> } {
  const decoder = new TextDecoder();
  const c = { text: "", done: Promise.resolve() };
  c.done = (async () => {
    for await (const chunk of stream) c.text += decoder.decode(chunk, { stream: true });
  })();
  return c;
}

/** A `cw relay` subprocess on free loopback ports, with its own data dir. */
export class RelayProcess {
  readonly dir = mkdtempSync(join(tmpdir(), "cw-relay-"));
  proc?: ReturnType<typeof Bun.spawn>;
  url = "";
  sshPort = 0;
  private out?: { readonly text: string; done: Promise<void> };
  private past = "";

  readonly adminToken?: string;

  /** `adminToken`: CW_AUTH_TOKEN for the relay; null starts it without one. */
  constructor(adminToken: string | null = `admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`) {
    this.adminToken = adminToken ?? undefined;
  }

  /**
   * Starts the relay (again, after stop(), on the same port when `port` is given); with `ssh`,
   * its SSH gateway on a free port too (sshPort).
   */
  async start(port = 0, opts: { ssh?: boolean; env?: Record<string, string> } = {}): Promise<void> {
    this.past += this.stderr;
    const env: Record<string, string> = { ...(process.env as Record<string, string>), NO_COLOR: "1", ...opts.env };
    delete env.CW_AUTH_TOKEN;
    if (this.adminToken) env.CW_AUTH_TOKEN = this.adminToken;
    const ssh = opts.ssh ? "127.0.0.1:0" : "off";
    const proc = Bun.spawn([CW, "relay", "--listen", `127.0.0.1:${port}`, "--ssh-listen", ssh, "--data-dir", this.dataDir], { env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    this.proc = proc;
    const out = capture(proc.stderr as ReadableStream<Uint8Array>);
    this.out = out;
    const seen = await waitFor(() => {
      if (proc.exitCode !== null) throw new Error(`cw relay exited ${proc.exitCode}`);
      const http = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text)?.[1];
      const sshPort = /SSH gateway listening on [\d.]+:(\d+)/.exec(out.text)?.[1];
      return http && (!opts.ssh || sshPort) ? { http, sshPort: Number(sshPort ?? 0) } : undefined;
    }, "the relay to listen").catch((e) => {
      throw new Error(`${(e as Error).message}\n${out.text}`);
    });
    this.url = seen.http;
    this.sshPort = seen.sshPort;
  }

  /** What the relay has logged since its last start. */
  get stderr(): string {
    return this.out?.text ?? "";
  }

  /** What every start so far logged. */
  get history(): string {
    return this.past + this.stderr;
  }

  get dataDir(): string {
    return this.path("data");
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async api(method: string, path: string, body?: unknown, token: string | undefined = this.adminToken): Promise<{ status: number; json: any }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: await res.json().catch(() => null) };
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    p.kill("SIGTERM");
    const stuck = setTimeout(() => p.kill("SIGKILL"), 5_000);
    await p.exited;
    clearTimeout(stuck);
    await this.out?.done.catch(() => {});
  }

  async cleanup(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether `pid` runs (an exited child that nobody has reaped yet does not count). */
export function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
