/**
 * The node's sessions: creation, lookup by id or name, listing, and keeping sessions.json true.
 */
import { mkdirSync, rmSync } from "node:fs";
import type { NodeConfig } from "../config/config";
import type { Paths } from "../config/paths";
import { ProtocolError, type RequestOf, type SessionRef } from "../protocol";
import type { EventBus } from "./events";
import { OutputLog } from "./output-log";
import { nodeEnv, workingDir } from "./launch-env";
import { loadRecords, nextIdFloor, saveNextId, saveRecords } from "./persistence";
import { PipeProcess } from "./pty/pipes";
import { type Pty, PtySpawnError, spawnPty } from "./pty/pty";
import type { Screens } from "./screen/screens";
import { Session, type SessionRecord } from "./session";

/** How long metadata-only changes (output counters) may wait before sessions.json is rewritten. */
const SAVE_DEBOUNCE_MS = 1000;

export class Sessions {
  private byId = new Map<number, Session>();
  private nextId: number;
  private saveTimer?: ReturnType<typeof setTimeout>;
  readonly corruptMovedTo?: string;

  constructor(
    private readonly paths: Paths,
    private readonly config: NodeConfig,
    private readonly events: EventBus,
    private readonly screens: Screens,
    private readonly log: (msg: string) => void,
  ) {
    const { records, corruptMovedTo } = loadRecords(paths);
    this.corruptMovedTo = corruptMovedTo;
    for (const r of records) {
      // A session still "running" on disk belonged to a node that died: its program went with it.
      if (r.status === "running") {
        r.status = "lost";
        r.completed_at ??= new Date().toISOString();
      }
      this.byId.set(r.id, this.make(r));
    }
    this.nextId = nextIdFloor(paths, records);
    this.saveNow();
  }

  private make(r: SessionRecord): Session {
    const dir = this.paths.sessionDir(r.id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new Session(r, dir, new OutputLog(dir, this.config.logMaxBytes), this.events, this.screens, () => this.saveSoon());
  }

  all(): Session[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  running(): Session[] {
    return this.all().filter((s) => s.running);
  }

  find(ref: SessionRef): Session | undefined {
    if (typeof ref === "number") return this.byId.get(ref);
    if (/^\d+$/.test(ref)) return this.byId.get(Number(ref));
    // A name belongs to its live session; otherwise to the newest session that had it.
    const named = this.all().filter((s) => s.name === ref);
    return named.find((s) => s.running) ?? named.at(-1);
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
    if (req.name && this.all().some((s) => s.running && s.name === req.name)) {
      throw new ProtocolError("name_taken", `a running session is already named ${req.name}`, "pick another name, or kill that session first");
    }
    const id = this.nextId++;
    saveNextId(this.paths, this.nextId);
    const record: SessionRecord = {
      id,
      ...(req.name ? { name: req.name } : {}),
      command: req.command,
      working_dir: workingDir(req.working_dir),
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
    };
    const session = this.make(record);
    const env: Record<string, string> = {
      ...(req.env_from === "node" ? nodeEnv(req.terminal) : {}),
      ...req.env,
      // A program on pipes keeps what it was given: no TERM claims a terminal it does not have.
      ...(req.terminal ? { TERM: req.env.TERM && req.env.TERM !== "dumb" ? req.env.TERM : "xterm-256color" } : {}),
      CW_SESSION_ID: String(id),
      CW_SESSION_NAME: req.name ?? "",
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
    this.saveNow();
    this.events.emit(session.source, "session.created", { command: record.command, working_dir: record.working_dir, pid: pty.pid });
    return session;
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

