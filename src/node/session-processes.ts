/**
 * Every process a session started, not only its program's process group: agents start daemons
 * in sessions of their own (Codex's `codex app-server`), which a signal to the group misses and
 * which, once the program is gone, are reparented to init and lose the tree that led to them.
 *
 * A process belongs to a session when
 *   - its environment holds the session's CW_SESSION_KEY (a value unique to the session, which
 *     every session's environment gets, and children inherit unless they clear it), or
 *   - it was seen in the session's process tree while the program ran (the trees of running
 *     sessions are recorded every second, for ones that clear their environment and then leave
 *     the tree), or
 *   - it descends from one that belongs.
 * All of it is read from Linux's /proc. (A cgroup would hold them without looking, but needs a
 * writable cgroup v2 hierarchy, which an ordinary user or container seldom has, and a child can
 * only be moved into one after it has started, when it may already have forked.)
 *
 * cw kill ends them all with the program. When the program ends by itself, what it left running
 * is left running, as tmux leaves it (a program may start a daemon on purpose): the session
 * shows such survivors (`cw status`, SessionInfo.survivors) and cw kill ends them.
 */
import { randomBytes } from "node:crypto";
import { processStart, sameProcess } from "../sys/proc";
import { processesByEnv, processesWithEnv, signalProcess, withDescendants } from "../sys/processes";
import type { Session } from "./session";

/** The environment variable that marks a session's processes. */
export const SESSION_KEY_VAR = "CW_SESSION_KEY";
const TRACK_EVERY_MS = 1000;
/** A program without children that printed since it was last looked at: every this many ticks (see track()). */
const LONE_EVERY_TICKS = 4;
/** A program without children that printed nothing since: every this many ticks. */
const QUIET_LONE_EVERY_TICKS = 16;
const POLL_MS = 25;
/** How long processes may take to vanish after SIGKILL before cw kill stops waiting for them. */
const SIGKILL_WAIT_MS = 2000;

/** A process, and its start time (see processStart), so a reused pid is not taken for it. */
export interface Proc {
  pid: number;
  start: string;
}

/** How a session is ended: the signal a user chose (sent alone), or a hangup (SIGHUP then SIGTERM). */
export type Ending = NodeJS.Signals | "hangup";

export function signalsOf(how: Ending): NodeJS.Signals[] {
  return how === "hangup" ? ["SIGHUP", "SIGTERM"] : [how];
}

export function newSessionKey(): string {
  return randomBytes(12).toString("hex");
}

const alive = (p: Proc) => sameProcess(p.pid, p.start);

export class SessionProcesses {
  /** Processes seen in running sessions' trees, by session id: pid -> start. */
  private seen = new Map<number, Map<number, string>>();
  private readonly timer: ReturnType<typeof setInterval>;
  /** Running sessions whose program had no children when last looked at: id -> its output's end then. */
  private readonly lone = new Map<number, number>();
  private tick = 0;

  constructor(private readonly running: () => Session[]) {
    this.timer = setInterval(() => this.track(), TRACK_EVERY_MS);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Records the process trees of running sessions (and of what was seen in them before). A
   * program seen without children is looked at again only every LONE_EVERY_TICKS ticks, and
   * every QUIET_LONE_EVERY_TICKS while it prints nothing (a program at work mostly prints; one
   * waiting for input or sleeping does not): each look costs a few /proc reads on the node's
   * thread, and with 100 idle `sleep`s looked at every 4 s they were most of the idle node's
   * CPU (5-7 of its 9-11 ms a second, measured against a build without looks). The looks are
   * spread over the ticks by session id. (Something that forks, clears its environment and
   * leaves the tree within those seconds goes unseen, as one within a second always could.)
   */
  track(): void {
    this.tick++;
    for (const s of this.running()) {
      const root = s.record.pid;
      if (!root) continue;
      let seen = this.seen.get(s.id);
      if (!seen) this.seen.set(s.id, (seen = new Map()));
      const end = s.log.end;
      const loneAt = this.lone.get(s.id);
      if (seen.size === 0 && loneAt !== undefined && (this.tick + s.id) % (loneAt === end ? QUIET_LONE_EVERY_TICKS : LONE_EVERY_TICKS) !== 0) continue;
      for (const [pid, start] of seen) if (!sameProcess(pid, start)) seen.delete(pid);
      const tree = withDescendants([root, ...seen.keys()], process.pid);
      for (const pid of tree) {
        if (pid === root || seen.has(pid)) continue;
        const start = processStart(pid);
        if (start) seen.set(pid, start);
      }
      if (tree.size <= 1) this.lone.set(s.id, end);
      else this.lone.delete(s.id);
    }
  }

  /** The session's processes that run now, other than its program itself (see the top). */
  members(s: Session, byKey?: Map<string, number[]>): Proc[] {
    const r = s.record;
    const roots = new Set<number>();
    for (const [pid, start] of this.seen.get(s.id) ?? []) if (sameProcess(pid, start)) roots.add(pid);
    for (const p of r.survivors) if (alive(p)) roots.add(p.pid);
    if (r.key) for (const pid of byKey ? (byKey.get(r.key) ?? []) : processesWithEnv(SESSION_KEY_VAR, r.key)) roots.add(pid);
    if (r.pid && s.running) roots.add(r.pid);
    const out: Proc[] = [];
    // Never the node itself, nor through it every session: a node started from inside a session
    // (say, restarted there by `cw stop; cw start`) carries that session's key.
    for (const pid of withDescendants(roots, process.pid)) {
      if (pid === r.pid) continue;
      const start = processStart(pid);
      if (start) out.push({ pid, start });
    }
    return out;
  }

  /**
   * Sessions a node lost (it stopped or crashed while they ran): what their programs started
   * may still run, and is found by its key (one look through /proc for them all).
   */
  adoptLost(lost: Session[]): void {
    if (!lost.some((s) => s.record.key)) return;
    const byKey = processesByEnv(SESSION_KEY_VAR);
    for (const s of lost) s.record.survivors = this.members(s, byKey).filter((p) => p.pid !== s.record.orphan_pid);
  }

  /** The session's program has ended: what it left running is kept as its survivors. */
  ended(s: Session): void {
    s.record.survivors = this.members(s);
    this.seen.delete(s.id);
    this.lone.delete(s.id);
  }

  /**
   * Ends the session's processes other than its program (Session.kill ends that): `how` now,
   * SIGKILL to whatever is left after `graceMs` (found again: some may have forked since).
   * `programGone` settles when the program has exited: the grace period ends early only then.
   */
  async end(s: Session, how: Ending, graceMs: number, programGone: Promise<unknown>): Promise<void> {
    let procs = this.members(s);
    for (const p of procs) for (const sig of signalsOf(how)) signalProcess(p.pid, sig);
    let programDone = false;
    void programGone.then(() => (programDone = true));
    await pollUntil(() => programDone && !procs.some(alive), graceMs);
    const known = new Set(procs.map((p) => p.pid));
    procs = [...procs.filter(alive), ...this.members(s).filter((p) => !known.has(p.pid))];
    if (procs.length === 0) return;
    for (const p of procs) signalProcess(p.pid, "SIGKILL");
    await pollUntil(() => !procs.some(alive), SIGKILL_WAIT_MS);
  }
}

async function pollUntil(done: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= until) return false;
    await Bun.sleep(POLL_MS);
  }
  return true;
}
