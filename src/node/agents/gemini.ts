/**
 * Gemini CLI (tested: 0.61.0). Its hooks live in ~/.gemini/settings.json in Claude Code's shape
 * ("hooks": {Event: [{matcher, hooks: [{type: "command", command}]}]}), the event's JSON on stdin.
 */
import type { AgentProfile } from "./profile";
import { bottom } from "./profile";

/** The events `cw hooks install` registers, with the matcher each needs ("" = every one). */
export const GEMINI_HOOK_EVENTS: Record<string, string> = {
  BeforeAgent: "",
  AfterTool: "",
  Notification: "",
  AfterAgent: "",
  SessionEnd: "",
};

export const gemini: AgentProfile = {
  name: "gemini",
  executables: ["gemini"],
  hookMeaning(event, f) {
    switch (event) {
      case "BeforeAgent":
      case "AfterTool":
        return "working";
      case "Notification":
        return f.notification_type === "ToolPermission" ? "needs-input" : undefined;
      case "AfterAgent":
        return "idle";
      case "SessionEnd":
        return "ended";
      default:
        return undefined;
    }
  },
  screenState(lines) {
    const tail = bottom(lines, 30);
    // "Allow execution of: ...?" over "● 1. Allow once".
    if (tail.some((l) => /Allow execution|Apply this change|Do you want to proceed/i.test(l)) && tail.some((l) => /●\s*1\.\s/.test(l))) return "needs-input";
    // "⠋ Thinking... (esc to cancel, 3s)" while a turn runs; while its hooks run, "⠙ Executing
    // Hooks: <their commands>", whose "(esc to cancel" a long command line pushes off the screen.
    if (tail.some((l) => /esc to cancel/i.test(l) || /^\s*[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\s+Executing Hooks?:/.test(l))) return "working";
    // The composer: "> Type your message or @path/to/file".
    if (tail.some((l) => /^\s*[│┃]?\s*>\s/.test(l) || /Type your message/.test(l))) return "idle";
    return undefined;
  },
};
