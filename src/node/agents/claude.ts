/**
 * Claude Code (tested: 2.1.332). Hooks live in settings.json ("hooks": {Event: [{matcher, hooks:
 * [{type: "command", command}]}]}); each gets the event's JSON on stdin.
 */
import type { AgentProfile } from "./profile";
import { bottom } from "./profile";

/** The events `cw hooks install` registers, with the matcher each needs ("" = every one). */
export const CLAUDE_HOOK_EVENTS: Record<string, string> = {
  UserPromptSubmit: "",
  PreToolUse: "AskUserQuestion",
  PermissionRequest: "",
  PostToolUse: "",
  Notification: "",
  Stop: "",
  SessionEnd: "",
};

/** Notification types (2.1.332's notificationType values) that wait for a person. */
const NEEDS_YOU = new Set(["permission_prompt", "worker_permission_prompt", "elicitation_dialog", "agent_needs_input"]);

export const claude: AgentProfile = {
  name: "claude",
  executables: ["claude", "claude-code"],
  hookMeaning(event, f) {
    switch (event) {
      case "UserPromptSubmit":
        return "working";
      // A tool ran (after an approval, or without one): the turn goes on.
      case "PostToolUse":
        return "working";
      case "PermissionRequest":
        return "needs-input";
      case "PreToolUse":
        // Claude asks the person a question (a menu); other tools are work in progress.
        return f.tool_name === "AskUserQuestion" ? "needs-input" : undefined;
      case "Notification":
        // A permission prompt (its own, or a subagent's), a question from an MCP server, or a
        // choice it needs ("Auto mode can't check actions ... needs your choice").
        if (typeof f.notification_type === "string" && NEEDS_YOU.has(f.notification_type)) return "needs-input";
        if (f.notification_type === "idle_prompt") return "idle";
        // Other notices (e.g. a background agent completed) say nothing about this turn.
        return undefined;
      case "Stop":
        return "idle";
      case "SessionEnd":
        return "ended";
      // SubagentStop and anything else: a subagent finishing does not end its parent's turn.
      default:
        return undefined;
    }
  },
  screenState(lines) {
    const tail = bottom(lines, 30);
    // A permission prompt or a menu: "Do you want to proceed?" over numbered choices, the
    // selected one marked with ❯, and "Esc to cancel" under them.
    if (tail.some((l) => /^\s*❯\s*\d+\.\s/.test(l)) && tail.some((l) => /Esc to cancel|Do you want/.test(l))) return "needs-input";
    // Other dialogs in the composer's place end in "… · Esc to cancel" (capital E: the footer of a
    // running turn says "esc to interrupt").
    if (bottom(lines, 2).some((l) => /\bEsc to cancel\b/.test(l))) return "needs-input";
    const hints = bottom(lines, 3);
    // The footer under the composer says "esc to interrupt" while a turn runs (the spinner above
    // it alone proves nothing: it also animates while a tool waits).
    if (hints.some((l) => /esc to interrupt/i.test(l))) return "working";
    // The composer right under its rule (past prompts above it start with ❯ too), and no turn running.
    if (tail.some((l, i) => i > 0 && /^❯(\s|$)/.test(l) && /^─{8,}/.test(tail[i - 1]!))) return "idle";
    return undefined;
  },
};
