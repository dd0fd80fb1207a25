/**
 * The agent state machine of one session: it decides working / needs-input / idle / none from
 * two kinds of signal.
 *
 * - A hook is the agent saying what it does, at the moment it does it: it wins at once.
 * - The screen is what a person would see. It decides once it has shown the same state for
 *   SCREEN_SETTLE_MS, so a frame drawn in passing does not count, and not within HOOK_TRUST_MS of
 *   a hook, whose word it would otherwise race (a Stop fires before the screen is redrawn). So it
 *   corrects hooks where they go stale because no hook fires (Esc or Ctrl+C interrupts a turn
 *   without a Stop; a permission granted at the keyboard fires nothing until the tool has run),
 *   and speaks for the states an agent's hooks never report (Codex's notify only says idle).
 *
 * Time comes in through `now`, so tests drive it without waiting.
 */
import type { AgentStateName, AgentStateSource } from "../../protocol/constants";
import type { HookMeaning } from "./profile";

export const SCREEN_SETTLE_MS = 400;
export const HOOK_TRUST_MS = 2000;

export interface ScreenVerdict {
  changed: boolean;
  /** Look at the screen again in this many ms, even if nothing is printed: a change is pending. */
  recheckInMs?: number;
}

export class AgentStateMachine {
  state: AgentStateName = "none";
  source: AgentStateSource | null = null;
  /** When `state` began (ms since the epoch); 0 while it has never changed. */
  since = 0;
  private lastHookAt: number | undefined;
  /** What the screen shows, and since when it has shown it. */
  private seen: { state: AgentStateName; since: number } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether hooks have ever spoken for this session. */
  get hooked(): boolean {
    return this.lastHookAt !== undefined;
  }

  /** A hook fired; true when the state changed. */
  hook(meaning: HookMeaning): boolean {
    if (meaning === undefined) return false;
    const t = this.now();
    this.lastHookAt = t;
    return this.set(meaning === "ended" ? "none" : meaning, "hook", t);
  }

  /** What the screen shows now; undefined when it says nothing recognisable. */
  screen(shown: AgentStateName | undefined): ScreenVerdict {
    const t = this.now();
    if (shown === undefined) {
      this.seen = undefined;
      return { changed: false };
    }
    if (this.seen?.state !== shown) this.seen = { state: shown, since: t };
    if (shown === this.state) return { changed: false };
    const left = Math.max(this.seen.since + SCREEN_SETTLE_MS, this.lastHookAt === undefined ? 0 : this.lastHookAt + HOOK_TRUST_MS) - t;
    if (left > 0) return { changed: false, recheckInMs: left };
    return { changed: this.set(shown, "screen", t) };
  }

  private set(state: AgentStateName, source: AgentStateSource, t: number): boolean {
    if (state === this.state) {
      // The same state, confirmed by a hook: it stays as it began, but a hook now vouches for it.
      if (source === "hook") this.source = "hook";
      return false;
    }
    this.state = state;
    this.source = state === "none" ? null : source;
    this.since = t;
    return true;
  }
}
