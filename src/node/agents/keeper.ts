/**
 * Keeps one session's agent state: takes its hooks, reads its screen after it prints (only for
 * sessions whose agent is known: a plain program costs nothing), and reports changes.
 */
import type { AgentName, AgentStateName } from "../../protocol/constants";
import { AGENTS, agentOfCommand } from "./index";
import type { AgentProfile, HookFields } from "./profile";
import { AgentStateMachine } from "./state";

/**
 * Reading the rows itself (no ScreenReads given), the keeper reads the screen at most this often
 * while a session prints...
 */
const READ_EVERY_MS = 250;
/** ...and this long after output, so that a frame being drawn is whole. */
const READ_DELAY_MS = 60;
/** How long an "idle" hook that needs the screen's word waits for it, and how often it looks. */
const IDLE_CONFIRM_MS = 1500;
const IDLE_CONFIRM_EVERY_MS = 100;
const IDLE_CONFIRM_HOLD_MS = 200;

export interface StateChange {
  state: AgentStateName;
  previous: AgentStateName;
  source: "hook" | "screen" | null;
  agent: AgentName | null;
}

/** What an agent's profile read on its screen: `shown` undefined when nothing it knows. */
export interface ScreenRead {
  shown: AgentStateName | undefined;
}

/**
 * Reads of the screen pushed to the keeper (the node's: Screens.watchAgent), instead of rows it
 * reads on timers of its own. The screen's owner reads the state where the screen is, after each
 * handover of the session's output (at most every 250 ms, all sessions at once), and hands the
 * keeper each read (AgentKeeper.screenRead): ten agents cost no timers, promises or rows of
 * their own.
 */
export interface ScreenReads {
  /** From now on, read as `agent`'s profile reads, whenever the session has printed. */
  watch(agent: AgentName): void;
  /** Read once more soon, though the session printed nothing (a change waits to settle). */
  ask(): void;
}

export class AgentKeeper {
  readonly machine = new AgentStateMachine();
  private profile: AgentProfile | undefined;
  private timer?: ReturnType<typeof setTimeout>;
  private reading = false;
  /** Output came while a read was under way: that read may predate it, so read once more. */
  private readAgain = false;
  private lastRead = 0;
  private closed = false;

  constructor(
    command: string[],
    /** The visible rows of the session's screen, or undefined if the screen did not answer. */
    private readonly readScreen: () => Promise<string[] | undefined>,
    private readonly changed: (c: StateChange) => void,
    /** Reads pushed to screenRead; without them the keeper reads readScreen's rows on timers. */
    private readonly reads?: ScreenReads,
  ) {
    this.profile = agentOfCommand(command);
    if (this.profile) {
      if (reads) reads.watch(this.profile.name);
      // An agent draws its first screen unasked: look at it once it has.
      else this.schedule(READ_DELAY_MS);
    }
  }

  get agent(): AgentName | null {
    return this.profile?.name ?? null;
  }

  /** The state, and when it began (ms since the epoch; 0 while it has never changed). */
  state(): { state: AgentStateName; since: number } {
    return { state: this.machine.state, since: this.machine.since };
  }

  /** The SessionInfo fields; an ended session's agent does nothing any more. */
  info(running: boolean) {
    const m = this.machine;
    if (!running) return { agent_state: "none", agent_state_since: null, agent: this.agent, agent_state_source: null } as const;
    return { agent_state: m.state, agent_state_since: m.since ? new Date(m.since).toISOString() : null, agent: this.agent, agent_state_source: m.source };
  }

  /** A hook of `agent` fired with `event`; returns the state after it. */
  hook(agent: AgentName, event: string, fields: HookFields): AgentStateName {
    if (this.closed) return this.machine.state;
    // A hook names the agent for sure (it may run under a shell cw did not recognise).
    const profile = AGENTS[agent];
    if (profile !== this.profile) this.reads?.watch(agent);
    this.profile = profile;
    const meaning = profile.hookMeaning(event, fields);
    if (meaning === "idle" && profile.idleNeedsScreen?.(event)) {
      void this.confirmIdle(profile);
      return this.machine.state;
    }
    const previous = this.machine.state;
    if (this.machine.hook(meaning)) this.report(previous);
    return this.machine.state;
  }

  /**
   * An "idle" hook that may be a side thread's: taken (as the hook's word) once the screen has
   * shown idle too for IDLE_CONFIRM_HOLD_MS (a frame between a tool call and its prompt is not
   * enough), within IDLE_CONFIRM_MS; dropped if it keeps showing a turn or a prompt.
   */
  private async confirmIdle(profile: AgentProfile): Promise<void> {
    const until = Date.now() + IDLE_CONFIRM_MS;
    let idleSince: number | undefined;
    while (!this.closed && Date.now() < until) {
      const lines = await this.readScreen();
      const idle = !!lines && profile.screenState(lines) === "idle";
      idleSince = idle ? (idleSince ?? Date.now()) : undefined;
      if (idleSince !== undefined && Date.now() - idleSince >= IDLE_CONFIRM_HOLD_MS) {
        const previous = this.machine.state;
        if (this.machine.hook("idle")) this.report(previous);
        return;
      }
      await Bun.sleep(IDLE_CONFIRM_EVERY_MS);
    }
  }

  /** The session printed: its screen may show another state (pushed reads follow output by themselves). */
  output(): void {
    if (this.profile && !this.closed && !this.reads) this.schedule(Math.max(READ_DELAY_MS, this.lastRead + READ_EVERY_MS - Date.now()));
  }

  /** A read of the screen, pushed (ScreenReads). */
  screenRead(read: ScreenRead): void {
    if (!this.closed && this.profile) this.take(read);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.reads) this.reads.ask();
      else void this.read();
    }, ms);
    this.timer.unref?.();
  }

  /** Reads readScreen's rows (no ScreenReads). */
  private async read(): Promise<void> {
    if (!this.profile) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    this.lastRead = Date.now();
    let lines: string[] | undefined;
    try {
      lines = await this.readScreen();
    } finally {
      this.reading = false;
      if (this.readAgain) {
        this.readAgain = false;
        this.schedule(READ_EVERY_MS);
      }
    }
    if (!lines || this.closed || !this.profile) return;
    this.take({ shown: this.profile.screenState(lines) });
  }

  private take(read: ScreenRead): void {
    const previous = this.machine.state;
    const verdict = this.machine.screen(read.shown);
    if (verdict.changed) this.report(previous);
    if (verdict.recheckInMs !== undefined) this.schedule(verdict.recheckInMs + 10);
  }

  private report(previous: AgentStateName): void {
    this.changed({ state: this.machine.state, previous, source: this.machine.source, agent: this.agent });
  }
}
