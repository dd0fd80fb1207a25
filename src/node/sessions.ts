/**
 * The node's sessions: creation, lookup by id or name, listing, and keeping sessions.json true.
 */
import { mkdirSync, rmSync } from "node:fs";
import type { NodeConfig } from "../config/config";
import type { Paths } from "../config/paths";
import { ProtocolError, type RequestOf, type SessionRef } from "../protocol";
import type { EventBus } from "./events";
import { OutputLog } from "./output-log";
import { programProblem } from "./program";
import { nodeEnv, workingDir } from "./launch-env";
import { loadRecords, nextIdFloor, saveNextId, saveRecords } from "./persistence";
import { PipeProcess } from "./pty/pipes";
import { type Pty, PtySpawnError, spawnPty } from "./pty/pty";
import { signalGroup } from "./pty/types";
import type { Screens } from "./screen/screens";
import { processStart } from "../sys/proc";
import { Session, type SessionRecord } from "./session";
import { type Ending, newSessionKey, SESSION_KEY_VAR, SessionProcesses, signalsOf } from "./session-processes";
import { runNotify } from "./agents/notify";

/** How long metadata-only changes (output counters) may wait before sessions.json is rewritten. */
const SAVE_DEBOUNCE_MS = 1000;
/** How long a program gets between SIGTERM and SIGKILL (as Session.kill gives its own). */
const KILL_GRACE_MS = 3000;
/** How long a program that outlived its node may take to vanish after SIGKILL before cw kill gives up. */
const ORPHAN_SIGKILL_WAIT_MS = 2000;
/** How often such a program is looked for: it is not the node's child, so no exit is reported. */
const ORPHAN_POLL_MS = 25;

export class Sessions {
  private byId = new Map<number, Session>();
  private nextId: number;
  private saveTimer?: ReturnType<typeof setTimeout>;
  /** cw kill of programs that outlived their node, under way: a second one waits for the first. */
  private orphanKills = new Map<number, Promise<void>>();
  /** Every process each session started (session-processes.ts). */
  readonly processes = new SessionProcesses(() => this.running());

  constructor(
    private readonly paths: Paths,
    private readonly config: NodeConfig,
    private readonly events: EventBus,
    private readonly screens: Screens,
    private readonly log: (msg: string) => void,
  ) {
    const { records, ids, notes } = loadRecords(paths);
    for (const note of notes) log(note);
    // In id order: all() relies on the map's insertion order (launches add rising ids).
    for (const r of [...records].sort((a, b) => a.id - b.id)) {
      const session = this.make(r);
      this.byId.set(r.id, session);
      // A session still "running" on disk belonged to a node that died without seeing its end;
      // markLost records that, and whether its program outlived the node.
      session.markLost();
    }
    this.processes.adoptLost(this.all().filter((s) => s.record.status === "lost"));
    this.nextId = nextIdFloor(paths, ids);
    this.saveNow();
  }

  private make(r: SessionRecord): Session {
    const dir = this.paths.sessionDir(r.id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new Session(r, dir, new OutputLog(dir, this.config.logMaxBytes), this.events, this.screens, () => this.saveSoon(), (s, change) =>
      runNotify(this.config.notifyCommand, s, change.state, this.log),
    );
  }

  /**
   * Every session, in id order: the map keeps them in the order they were added, sorted at load
   * and rising at each launch (sorting here each time cost the idle node's once-a-second process
   * look most of its JS time with 100 sessions).
   */
  all(): Session[] {
    return [...this.byId.values()];
  }

  running(): Session[] {
    return this.all().filter((s) => s.running);
  }

  find(ref: SessionRef): Session | undefined {
    if (typeof ref === "number") return this.byId.get(ref);
    if (/^\d+$/.test(ref)) return this.byId.get(Number(ref));
    // A name belongs to its live session; otherwise to the newest session that had it.
    const named = this.all().filter((s) => s.name === ref);
    return named.find(holdsName) ?? named.at(-1);
  }

  get(ref: SessionRef): Session {
    const s = this.find(ref);
    if (!s) throw new ProtocolError("not_found", `no session ${JSON.stringify(ref)}`, "run `cw list` to see sessions");
    return s;
  }

  byTags(tags: string[]): Session[] {
    return this.all().filter((s) => tags.some((t) => s.record.tags.includes(t)));
  }

  launch(req: RequestOf<"Launch">): Session {
    const holder = req.name ? this.all().find((s) => s.name === req.name && holdsName(s)) : undefined;
    if (holder?.running) throw new ProtocolError("name_taken", `a running session is already named ${req.name}`, "pick another name, or kill that session first");
    if (holder) {
      throw new ProtocolError("name_taken", `session ${holder.id} named ${req.name} was lost when its node stopped, but its process ${holder.orphanPid} still runs`, `pick another name, or end it with: cw kill ${req.name}`);
    }
    const cwd = workingDir(req.working_dir);
    const cannot = programProblem(req.command[0]!, cwd, req.env_from === "node" ? (req.env.PATH ?? process.env.PATH) : req.env.PATH);
    if (cannot) throw new ProtocolError("spawn_failed", `could not start ${JSON.stringify(req.command[0])}: ${cannot}`, "nothing was started; give a program that exists and is executable (a path, or a name on the PATH)");
    const id = this.nextId++;
    saveNextId(this.paths, this.nextId);
    const record: SessionRecord = {
      id,
      ...(req.name ? { name: req.name } : {}),
      command: req.command,
      working_dir: cwd,
      tags: [...new Set(req.tags)],
      status: "running",
      exit_code: null,
      pid: null,
      created_at: new Date().toISOString(),
      completed_at: null,
      output_bytes: 0,
      last_output_at: null,
      cols: req.cols,
      rows: req.rows,
      terminal: req.terminal,
      pid_start: null,
      orphan_pid: null,
      key: newSessionKey(),
      survivors: [],
    };
    const session = this.make(record);
    const env: Record<string, string> = {
      ...(req.env_from === "node" ? nodeEnv(req.terminal) : {}),
      ...req.env,
      // A program on pipes keeps what it was given: no TERM claims a terminal it does not have.
      ...(req.terminal ? { TERM: req.env.TERM && req.env.TERM !== "dumb" ? req.env.TERM : "xterm-256color" } : {}),
      CW_SESSION_ID: String(id),
      CW_SESSION_NAME: req.name ?? "",
      [SESSION_KEY_VAR]: record.key!,
    };
    let pty: Pty;
    try {
      const spawn = { command: req.command, cwd: record.working_dir, env, cols: req.cols, rows: req.rows };
      pty = req.terminal ? spawnPty(spawn, this.config.pty) : new PipeProcess(spawn);
    } catch (e) {
      // Nothing ran: leave no empty session directory behind (the id stays used, never reused).
      rmSync(session.dir, { recursive: true, force: true });
      if (!(e instanceof PtySpawnError)) throw e;
      throw new ProtocolError("spawn_failed", `could not start ${JSON.stringify(req.command[0])} in ${record.working_dir}`, "check that the command exists on the node's PATH and the directory exists");
    }
    this.byId.set(id, session);
    session.start(pty);
    // What the program leaves running when it ends is kept as its survivors.
    session.onExit(() => {
      this.processes.ended(session);
      this.saveSoon();
    });
    // Read now, while the program is surely the one just started: a later node checks it against this.
    record.pid_start = processStart(pty.pid);
    this.saveNow();
    this.events.emit(session.source, "session.created", { command: record.command, working_dir: record.working_dir, pid: pty.pid });
    return session;
  }

  /** Whether cw kill has something to end in `session`: its program, or processes it left running. */
  killable(session: Session): boolean {
    return session.running || session.orphanPid !== null || session.survivors.length > 0;
  }

  /**
   * Ends everything `session` started: its program (also one that outlived its node) and every
   * other process of it (session-processes.ts); resolves once they are gone. A session whose
   * program had ended keeps its status: only what it left running is ended.
   */
  async end(session: Session, how: Ending = "hangup"): Promise<void> {
    // The other processes are found first, while the program's tree still leads to them.
    let programGone: Promise<unknown> = Promise.resolve();
    if (session.running) programGone = new Promise<void>((r) => session.onExit(r));
    const others = this.processes.end(session, how, KILL_GRACE_MS, programGone);
    if (session.running) session.kill(how, KILL_GRACE_MS);
    else if (session.orphanPid !== null) programGone = this.killOrphan(session, how);
    await Promise.all([others, programGone]);
    // Some may be gone only now: the survivors list is what still runs.
    session.record.survivors = session.record.survivors.length ? this.processes.members(session) : [];
    this.saveSoon();
  }

  /**
   * Ends the program of a lost session that outlived its node: SIGHUP and `signal` to its process
   * group, SIGKILL after the grace period; then the session is recorded as killed. The program
   * is not the node's child, so its end is found by polling, not reported.
   */
  killOrphan(session: Session, signal: Ending = "hangup"): Promise<void> {
    let pending = this.orphanKills.get(session.id);
    if (!pending) {
      pending = this.endOrphan(session, signal).finally(() => this.orphanKills.delete(session.id));
      this.orphanKills.set(session.id, pending);
    }
    return pending;
  }

  private async endOrphan(session: Session, signal: Ending): Promise<void> {
    const pid = session.orphanPid;
    if (pid === null) return;
    for (const sig of signalsOf(signal)) signalGroup(pid, sig);
    if (!(await orphanGone(session, KILL_GRACE_MS))) {
      signalGroup(pid, "SIGKILL");
      if (!(await orphanGone(session, ORPHAN_SIGKILL_WAIT_MS))) {
        throw new ProtocolError("timeout", `process ${pid} of session ${session.id} is still there after SIGKILL`, `it may be stuck in the kernel: see \`ps -o pid,stat,wchan -p ${pid}\``);
      }
    }
    const r = session.record;
    r.status = "killed";
    r.exit_code = null;
    r.completed_at = new Date().toISOString();
    this.saveNow();
    this.events.emit(session.source, "session.status", { status: "killed", exit_code: null, previous: "lost" });
  }

  saveSoon(): void {
    this.saveTimer ??= setTimeout(() => this.saveNow(), SAVE_DEBOUNCE_MS);
  }

  saveNow(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    try {
      saveRecords(this.paths, this.all().map((s) => ({ ...s.record, output_bytes: s.log.end })));
    } catch (e) {
      this.log(`could not save sessions.json: ${(e as Error).message}`);
    }
  }
}

/** A session's name stays taken while its program runs: under this node, or having outlived another. */
function holdsName(s: Session): boolean {
  return s.running || s.orphanPid !== null;
}

/** Whether the outliving program of `session` is gone within `ms`. */
async function orphanGone(session: Session, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (session.orphanPid !== null) {
    if (Date.now() >= until) return false;
    await Bun.sleep(ORPHAN_POLL_MS);
  }
  return true;
}
