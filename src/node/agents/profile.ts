/**
 * What cw knows of one agent: how to recognise it on a command line, what each of its hook events
 * means, what its screen shows in each state, and where its hooks are installed.
 */
import type { AgentName, AgentStateName } from "../../protocol/constants";

/** A hook's top-level scalar fields (HookEvent.fields). */
export type HookFields = Record<string, string | number | boolean | null>;

/**
 * What a hook event says: a state, "ended" (the agent's session is over: back to none), or
 * undefined when it says nothing about the state (a subagent finishing, a notice of no interest).
 */
export type HookMeaning = AgentStateName | "ended" | undefined;

export interface AgentProfile {
  name: AgentName;
  /** The executables that run it (a command line runs it when one of its first words is one). */
  executables: string[];
  hookMeaning(event: string, fields: HookFields): HookMeaning;
  /**
   * A hook that may speak for another thread of the agent than the one on screen (Codex's notify
   * fires for side threads too): its "idle" holds only once the screen shows idle too.
   */
  idleNeedsScreen?(event: string): boolean;
  /**
   * What its screen (the visible rows, as text) shows: working, needs-input or idle; undefined
   * when the screen does not say (still starting, another program in front, an unknown view).
   */
  screenState(lines: string[]): AgentStateName | undefined;
}

/** The last non-blank rows of a screen: an agent's TUI keeps its composer and hints at the bottom. */
export function bottom(lines: string[], n: number): string[] {
  let end = lines.length;
  while (end > 0 && !lines[end - 1]!.trim()) end--;
  return lines.slice(Math.max(0, end - n), end);
}
