/**
 * The two servers under test, each confined to what the benchmark created: a cw node on its own
 * CODEWIRE_HOME and a tmux server on its own socket. Both are torn down by `cleanup()`, which is
 * synchronous so it can also run from an exit handler.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { NodeConnection } from "../../src/client/connection";
import { pathsFor } from "../../src/config/paths";
import type { SessionInfo } from "../../src/protocol";
import { alive, run } from "./util";

export const COLS = 120;
export const ROWS = 40;

/** The environment children get: ours, minus anything that would point them at another tmux. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.TMUX;
  delete env.TMUX_PANE;
  delete env.CODEWIRE_HOME;
  env.TERM = "xterm-256color";
  return env;
}

export class Cw {
  readonly paths: ReturnType<typeof pathsFor>;
  private nodePids = new Set<number>();
  private sessionPids = new Set<number>();

  constructor(
    readonly bin: string,
    readonly home: string,
  ) {
    this.paths = pathsFor(home);
  }

  /** BENCH_PTY picks the node's terminal backend (CODEWIRE_PTY): bun (the default) or bun-pty. */
  env(): Record<string, string> {
    return { ...baseEnv(), CODEWIRE_HOME: this.home, ...(process.env.BENCH_PTY ? { CODEWIRE_PTY: process.env.BENCH_PTY } : {}) };
  }

  cli(args: string[], timeoutMs = 30_000) {
    return run([this.bin, ...args], { env: this.env(), timeoutMs });
  }

  /** Starts the node in the background and returns its pid. */
  start(): number {
    this.cli(["start"]);
    const pid = this.nodePid();
    if (!pid) throw new Error("cw start returned but there is no node pid file");
    return pid;
  }

  nodePid(): number | undefined {
    try {
      const pid = Number(readFileSync(this.paths.pid, "utf8").trim());
      if (pid > 0) this.nodePids.add(pid);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Launches a session through the CLI, as a user would; returns its id. */
  launchCli(command: string[]): number {
    const r = this.cli(["launch", "--json", "--", ...command]);
    const s = JSON.parse(r.stdout) as SessionInfo;
    if (s.pid) this.sessionPids.add(s.pid);
    return s.id;
  }

  /** Launches a session over the protocol (no CLI start-up cost); returns its info. */
  async launch(command: string[]): Promise<SessionInfo> {
    const conn = await NodeConnection.open(this.paths.socket);
    try {
      conn.send({ type: "Launch", command, working_dir: process.cwd(), cols: COLS, rows: ROWS, env: this.env(), tags: [] });
      const reply = await conn.nextReply();
      if (!reply || reply.type !== "Launched") throw new Error(`launch failed: ${JSON.stringify(reply)}`);
      if (reply.session.pid) this.sessionPids.add(reply.session.pid);
      return reply.session;
    } finally {
      conn.close();
    }
  }

  async connect(): Promise<NodeConnection> {
    return NodeConnection.open(this.paths.socket);
  }

  /**
   * Stops the node and everything it started: `cw stop` first (it ends the sessions), then
   * SIGKILL for a node that did not go, then the process groups of any session left behind.
   */
  cleanup(): void {
    this.nodePid();
    if (existsSync(this.paths.socket)) {
      try {
        run([this.bin, "stop"], { env: this.env(), timeoutMs: 15_000, check: false });
      } catch {
        /* fall through to signals */
      }
    }
    for (const pid of this.nodePids) if (alive(pid)) kill(pid, "SIGKILL");
    try {
      const saved = JSON.parse(readFileSync(this.paths.sessions, "utf8")) as { sessions: { pid: number | null }[] };
      for (const s of saved.sessions) if (s.pid) this.sessionPids.add(s.pid);
    } catch {
      /* no sessions file */
    }
    for (const pid of this.sessionPids) {
      kill(-pid, "SIGKILL");
      kill(pid, "SIGKILL");
    }
  }
}

export class Tmux {
  private started = false;

  constructor(readonly socket: string) {}

  base(): string[] {
    return ["tmux", "-L", this.socket, "-f", "/dev/null"];
  }

  cmd(args: string[], timeoutMs = 30_000) {
    this.started = true;
    return run([...this.base(), ...args], { env: baseEnv(), timeoutMs });
  }

  /** A server with no sessions that stays up, sized like the cw sessions, without a status line. */
  startServer(): number {
    this.cmd(["start-server", ";", "set", "-g", "exit-empty", "off", ";", "set", "-g", "status", "off", ";", "set", "-g", "default-size", `${COLS}x${ROWS}`]);
    return this.serverPid();
  }

  serverPid(): number {
    return Number(this.cmd(["display-message", "-p", "#{pid}"]).stdout.trim());
  }

  /** A shell command line that runs a tmux command against this server. */
  shellPrefix(): string {
    return this.base().map((a) => `'${a}'`).join(" ");
  }

  cleanup(): void {
    if (!this.started) return;
    try {
      run([...this.base(), "kill-server"], { env: baseEnv(), timeoutMs: 10_000, check: false });
    } catch {
      /* already gone */
    }
    // tmux leaves its socket file behind.
    rmSync(join(process.env.TMUX_TMPDIR || "/tmp", `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}

function kill(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}
