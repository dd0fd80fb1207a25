/**
 * Codex CLI (tested: 0.171.0). Its one hook is `notify`, a program in ~/.codex/config.toml (top
 * level, before any table) run with a JSON argument when a turn completes
 * ({"type": "agent-turn-complete", ...}). It says nothing when a turn starts or asks for
 * approval: the screen tells those.
 */
import type { AgentProfile } from "./profile";
import { bottom } from "./profile";

export const codex: AgentProfile = {
  name: "codex",
  executables: ["codex"],
  hookMeaning(event, f) {
    if (event !== "notify") return undefined;
    if (f.type === "agent-turn-complete") return "idle";
    if (typeof f.type === "string" && /approval|input/.test(f.type)) return "needs-input";
    return undefined;
  },
  // A thread's title is written by a side thread of its own, whose turn completes (and notifies)
  // while the first real turn is still running: seen as a notify at once, and the screen still
  // showing the turn (or a prompt) for longer than the confirmation waits.
  idleNeedsScreen: (event) => event === "notify",
  screenState(lines) {
    const tail = bottom(lines, 30);
    // "Would you like to run the following command?" over "› 1. Yes, proceed (y)" and
    // "Press enter to confirm or esc to cancel".
    if (tail.some((l) => /^\s*›\s*\d+\.\s/.test(l)) && tail.some((l) => /Press enter to confirm|Would you like to/.test(l))) return "needs-input";
    // "• Working (3s • esc to interrupt)" above the composer while a turn runs.
    if (tail.some((l) => /esc to interrupt/i.test(l))) return "working";
    // The composer ("› Ask Codex to do anything", or what is typed) and no turn running.
    if (tail.some((l) => /^›(\s|$)/.test(l))) return "idle";
    return undefined;
  },
};
