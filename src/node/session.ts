/**
 * One session: a program on a PTY, its output log, its screen, and whoever is watching.
 */
import { sameProcess } from "../sys/proc";
import type { SessionInfo, SessionStatus } from "../protocol";
import type { TableRow } from "../protocol/session-table";
import type { EventBus } from "./events";
import { OutputLog } from "./output-log";
import { yieldCpu } from "../sys/libc";
import type { Pty } from "./pty/pty";
import type { Screens } from "./screen/screens";
import { recentLines } from "./screen/recent-text";
import type { Viewer } from "./viewer";
import { type Ending, type Proc, signalsOf } from "./session-processes";
import { AgentKeeper, type StateChange } from "./agents/keeper";
import type { HookFields } from "./agents/profile";
import type { AgentName, AgentStateName } from "../protocol/constants";

/** What sessions.json keeps of a session. */
export interface SessionRecord {
  id: number;
  name?: string;
  command: string[];
  working_dir: string;
  tags: string[];
  status: SessionStatus;
  exit_code: number | null;
  pid: number | null;
  created_at: string;
  completed_at: string | null;
  output_bytes: number;
  last_output_at: string | null;
  cols: number;
  rows: number;
  /** On a PTY (true) or on pipes (Launch with terminal: false). */
  terminal: boolean;
  /** Which process `pid` was (see processStart), so that a pid reused by another one is not taken for it. */
  pid_start: string | null;
  /** A lost session whose program outlived the node that ran it: its pid, while it lives (cw kill ends it). */
  orphan_pid: number | null;
  /** The value of CW_SESSION_KEY in its environment, by which its processes are found (session-processes.ts); null before there was one. */
  key: string | null;
  /** Processes the program left running when it ended (see session-processes.ts); pruned as they end. */
  survivors: Proc[];
}

const SUMMARY_EVERY_MS = 5000;
/** Lines read for the summary: the last few, since the very last may be blank. */
const SUMMARY_LINES = 5;
/** The agent fields of a session that never ran here (a lost one from before a restart). */
const NO_AGENT = { agent_state: "none", agent_state_since: null, agent: null, agent_state_source: null } as const;
/** Output chunks up to this size that reach a live viewer yield the CPU to it (see output()). */
const YIELD_BELOW = 512;

export function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

export class Session {
  pty?: Pty;
  readonly viewers = new Set<Viewer>();
  attached = 0;
  private killRequested = false;
  private exitListeners: (() => void)[] = [];
  private summaryBytes = 0;
  private summaryTimer?: ReturnType<typeof setTimeout>;
  private lastLine = "";
  private promptText?: string;
  private createdMs?: number;
  /** The agent state of the program (working, needs-input, idle), from its hooks and its screen. */
  private agents?: AgentKeeper;

  constructor(
    readonly record: SessionRecord,
    readonly dir: string,
    readonly log: OutputLog,
    private readonly events: EventBus,
    private readonly screens: Screens,
    private readonly persist: () => void,
    /** Told after session.state is emitted (the notify command). */
    private readonly agentStateChanged: (s: Session, change: StateChange) => void = () => {},
  ) {}

  get id() {
    return this.record.id;
  }
  get name() {
    return this.record.name;
  }
  get running() {
    return this.record.status === "running";
  }
  /** The pid of a lost session's program that outlived its node, while it still lives; else null. */
  get orphanPid(): number | null {
    const r = this.record;
    if (r.orphan_pid === null) return null;
    if (sameProcess(r.orphan_pid, r.pid_start)) return r.orphan_pid;
    // It has ended since, unseen: not our child, so nobody learns how.
    r.orphan_pid = null;
    this.persist();
    return null;
  }
  /** Processes the program left running when it ended, those that still run. */
  get survivors(): Proc[] {
    const r = this.record;
    const live = r.survivors.filter((p) => sameProcess(p.pid, p.start));
    if (live.length !== r.survivors.length) {
      r.survivors = live;
      this.persist();
    }
    return live;
  }
  /** On a terminal (the default), not on pipes. */
  get onTerminal(): boolean {
    return this.record.terminal;
  }

  get offset() {
    return this.log.end;
  }

  get source() {
    return { id: this.id, name: this.name, tags: this.record.tags, dir: this.dir };
  }

  /** The command as a shell would take it back (shellQuote); it never changes. */
  get prompt(): string {
    return (this.promptText ??= shellQuote(this.record.command));
  }

  info(): SessionInfo {
    const r = this.record;
    const created = (this.createdMs ??= Date.parse(r.created_at));
    const done = r.completed_at ? Date.parse(r.completed_at) : undefined;
    return {
      id: r.id,
      ...(r.name ? { name: r.name } : {}),
      prompt: this.prompt,
      command: r.command,
      working_dir: r.working_dir,
      tags: r.tags,
      status: r.status,
      exit_code: r.exit_code,
      pid: r.pid,
      created_at: r.created_at,
      completed_at: r.completed_at,
      duration_ms: done !== undefined ? done - created : r.status === "running" ? Date.now() - created : null,
      output_bytes: this.log.end,
      last_output_at: r.last_output_at,
      attached_count: this.attached,
      cols: r.cols,
      rows: r.rows,
      terminal: r.terminal,
      orphan_pid: this.orphanPid,
      survivors: this.running ? [] : this.survivors.map((p) => p.pid),
      ...(this.agents?.info(this.running) ?? NO_AGENT),
    };
  }

  /**
   * What `cw list` shows of this session (protocol/session-table.ts): the few fields its table
   * draws, without the rest of info(). The node draws that table for every `cw list`, an agent
   * polling runs it often, and with 100 sessions the whole SessionInfos were a third of the
   * node's time on it.
   */
  tableRow(): TableRow {
    const r = this.record;
    const running = this.running;
    const agent = running ? this.agents?.state() : undefined;
    return {
      id: r.id,
      name: r.name || null,
      prompt: this.prompt,
      status: r.status,
      exit_code: r.exit_code,
      orphan_pid: this.orphanPid,
      survivors: running ? undefined : this.survivors.map((p) => p.pid),
      tags: r.tags,
      created_ms: (this.createdMs ??= Date.parse(r.created_at)),
      agent_state: agent?.state ?? "none",
      agent_state_since_ms: agent?.since || null,
    };
  }

  /** An agent's hook fired in this session; returns the agent state after it. */
  agentHook(agent: AgentName, event: string, fields: HookFields): AgentStateName {
    return this.agents?.hook(agent, event, fields) ?? "none";
  }

  private agentState(change: StateChange): void {
    this.events.emit(this.source, "session.state", {
      state: change.state,
      previous: change.previous,
      source: change.source,
      agent: change.agent,
    });
    this.agentStateChanged(this, change);
  }

  /** Wires a freshly spawned PTY to the log, the screen and the viewers. */
  start(pty: Pty): void {
    this.pty = pty;
    this.record.pid = pty.pid;
    const screens = this.screens;
    screens.open(this.id, this.record.cols, this.record.rows, (n) => this.log.tail(n), (answer) => {
      // The emulator answers terminal queries only while no real terminal is attached, and
      // never into pipes, where an answer would become the program's input.
      if (this.attached === 0 && pty.terminal) pty.write(answer);
    }, !pty.terminal);
    this.agents = new AgentKeeper(
      this.record.command,
      async () => (this.running ? (await screens.text(this.id))?.lines : undefined),
      (change) => this.agentState(change),
      {
        watch: (agent) => screens.watchAgent(this.id, agent, (read) => this.agents?.screenRead(read)),
        ask: () => screens.askAgent(this.id),
      },
    );
    pty.onData((chunk) => this.output(chunk));
    pty.onExit(({ exitCode }) => this.exited(exitCode));
  }

  private output(chunk: Uint8Array): void {
    // Live viewers first: a keystroke's echo should not wait for the disk. Viewers that are
    // catching up read from the log, so they get the chunk once it is there. (The log's end
    // moves by the chunk's length even when the disk refuses it: the bytes become a gap.)
    const end = this.log.end + chunk.length;
    let late: Viewer[] | undefined;
    let live = false;
    for (const v of this.viewers) {
      if (v.pushLive(chunk, end)) live = true;
      else (late ??= []).push(v);
    }
    // A small chunk that just went out live is most likely an echo a client is waiting for. The
    // kernel tends to wake that client on this CPU, where it would wait for the logging below:
    // hand it the CPU first (measured: the client got the echo 40 µs after the node sent it,
    // against 90 µs without this). Large chunks (output floods) do not yield.
    if (live && chunk.length <= YIELD_BELOW) yieldCpu();
    this.log.append(chunk);
    this.screens.feed(this.id, chunk, end);
    this.record.last_output_at = new Date().toISOString();
    if (late) for (const v of late) v.push(chunk, end);
    this.agents?.output();
    this.summaryBytes += chunk.length;
    this.summaryTimer ??= setTimeout(() => this.summarize(), SUMMARY_EVERY_MS);
  }

  /**
   * session.output_summary: how much was printed lately and the last line, at most every 5 s.
   * The last line is the last one with text on the session's terminal (screen/text.ts): whole
   * characters, never half an escape sequence. Asked of the screen before it closes (at exit the
   * question goes out first), so it is sent a moment later, possibly after the exit's status.
   */
  private summarize(): void {
    this.summaryTimer = undefined;
    if (this.summaryBytes === 0) return;
    const bytes = this.summaryBytes;
    const total = this.log.end;
    this.summaryBytes = 0;
    void recentLines(this.screens, this, SUMMARY_LINES).then(
      (lines) => this.summarized(bytes, total, lines),
      () => this.summarized(bytes, total, []),
    );
  }

  private summarized(bytes: number, total: number, lines: string[]): void {
    this.lastLine = lines.map((l) => l.trim()).filter(Boolean).pop() ?? this.lastLine;
    this.events.emit(this.source, "session.output_summary", { bytes, total_bytes: total, last_line: [...this.lastLine].slice(0, 500).join("") });
    this.persist();
  }

  write(bytes: Uint8Array | string): void {
    this.pty?.write(bytes);
  }

  /** The client's input has ended. */
  endInput(): void {
    this.pty?.endInput();
  }

  resize(cols: number, rows: number): void {
    if (cols === this.record.cols && rows === this.record.rows) return;
    this.record.cols = cols;
    this.record.rows = rows;
    this.pty?.resize(cols, rows);
    this.screens.resize(this.id, cols, rows);
  }

  /**
   * Ends the program (its process group): a chosen signal alone, or a hangup (SIGHUP first, so
   * that shells and TUIs that ignore SIGTERM still go, then SIGTERM); SIGKILL if it is still
   * there after a grace period. (Its other processes: Sessions.end.)
   */
  kill(how: Ending = "hangup", graceMs = 3000): void {
    if (!this.pty || !this.running) return;
    this.killRequested = true;
    const pty = this.pty;
    for (const sig of signalsOf(how)) pty.signal(sig);
    const t = setTimeout(() => pty.signal("SIGKILL"), graceMs);
    t.unref?.();
    this.onExit(() => clearTimeout(t));
  }

  /** Calls `fn` when the program exits (at once if it already has); returns a canceller. */
  onExit(fn: () => void): () => void {
    if (!this.running) {
      fn();
      return () => {};
    }
    this.exitListeners.push(fn);
    return () => {
      const i = this.exitListeners.indexOf(fn);
      if (i >= 0) this.exitListeners.splice(i, 1);
    };
  }

  private exited(exitCode: number | null): void {
    if (this.summaryTimer) {
      clearTimeout(this.summaryTimer);
      this.summarize();
    }
    const r = this.record;
    r.status = this.killRequested ? "killed" : "completed";
    r.exit_code = exitCode;
    r.completed_at = new Date().toISOString();
    r.output_bytes = this.log.end;
    this.log.close();
    this.agents?.close();
    this.screens.close(this.id);
    this.persist();
    this.events.emit(this.source, "session.status", { status: r.status, exit_code: exitCode, previous: "running" });
    for (const l of this.exitListeners.splice(0)) l();
  }

  /**
   * The node is going away with the program still running, or has come back after a crash to a
   * session that was: its end can no longer be seen. Said in the event log too, so subscribers
   * and readers of events.jsonl learn of it.
   */
  markLost(): void {
    const r = this.record;
    if (r.status !== "running") return;
    r.status = "lost";
    r.completed_at ??= new Date().toISOString();
    r.output_bytes = this.log.end;
    // The program may outlive its node (pipes get no hangup; a program may ignore it): keep
    // its pid, so that it is shown, keeps its name, and cw kill can still end it.
    r.orphan_pid = sameProcess(r.pid, r.pid_start) ? r.pid : null;
    const orphan = r.orphan_pid !== null ? { orphan_pid: r.orphan_pid } : {};
    this.events.emit(this.source, "session.status", { status: "lost", exit_code: null, previous: "running", ...orphan });
  }
}
