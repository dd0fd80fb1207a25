/**
 * `cw hooks install|status|uninstall`: puts `cw hook <agent> <event>` into each agent's own hook
 * settings, next to whatever hooks the user has there, and takes only ours out again.
 *
 * - Claude Code and Gemini CLI: settings.json, "hooks": {Event: [{matcher, hooks: [{type,
 *   command, timeout}]}]}; user scope in the agent's home directory, project scope in
 *   <dir>/.claude or <dir>/.gemini.
 * - Codex: one `notify = [...]` program at the top level of config.toml (user scope only). A
 *   notify program the user already has is left alone, and said.
 *
 * Ours are recognised by their command (`… hook <agent> <Event>`), so installing again replaces
 * them in place (a moved cw binary included) and changes nothing when they are already right.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentName } from "../../protocol/constants";
import { CLAUDE_HOOK_EVENTS } from "./claude";
import { GEMINI_HOOK_EVENTS } from "./gemini";

export type Scope = "user" | "project";

export interface InstallTarget {
  agent: AgentName;
  scope: Scope;
  /** The agent's home (HOME), and the project directory for project scope. */
  home: string;
  dir: string;
  env: Record<string, string | undefined>;
  /** The cw that the hooks run (an absolute path, so the agent's PATH does not matter). */
  cw: string[];
}

export interface HookPlan {
  agent: AgentName;
  path: string;
  /** installed: all ours present; partial: some; absent: none. */
  before: "installed" | "partial" | "absent";
  /** The file's new text, or undefined when nothing would change. */
  text?: string;
  /** Why this agent was left alone (a notify program of the user's, an unsupported scope). */
  skipped?: string;
}

export class HookSettingsError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const OURS = /\bhook (claude|codex|gemini) [\w-]+\s*$/;
const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function settingsPath(t: InstallTarget): string | undefined {
  if (t.agent === "claude") return t.scope === "project" ? join(t.dir, ".claude", "settings.json") : join(t.env.CLAUDE_CONFIG_DIR || join(t.home, ".claude"), "settings.json");
  if (t.agent === "gemini") return t.scope === "project" ? join(t.dir, ".gemini", "settings.json") : join(t.home, ".gemini", "settings.json");
  return t.scope === "project" ? undefined : join(t.env.CODEX_HOME || join(t.home, ".codex"), "config.toml");
}

/** What installing (or, with `remove`, uninstalling) would do; writes nothing. */
export function planHooks(t: InstallTarget, remove: boolean): HookPlan {
  const path = settingsPath(t);
  if (!path) return { agent: t.agent, path: "-", before: "absent", skipped: "Codex reads its notify program from its user config only: use --scope user" };
  const old = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  if (t.agent === "codex") return planCodex(t, path, old, remove);
  const events = t.agent === "claude" ? CLAUDE_HOOK_EVENTS : GEMINI_HOOK_EVENTS;
  let settings: Record<string, unknown>;
  try {
    settings = old?.trim() ? JSON.parse(old) : {};
  } catch (e) {
    throw new HookSettingsError(`${path} is not valid JSON (${(e as Error).message})`, "fix it by hand (its hooks were left alone), then run this again");
  }
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) throw new HookSettingsError(`${path} does not hold a JSON object`, "fix it by hand, then run this again");
  const hooks = (settings.hooks ?? {}) as Record<string, Array<{ matcher?: string; hooks?: Array<{ command?: string }> }>>;
  const present = Object.keys(events).filter((e) => (hooks[e] ?? []).some((g) => g.hooks?.some((h) => isOurs(h.command, t.agent, e))));
  const before = present.length === 0 ? "absent" : present.length === Object.keys(events).length ? "installed" : "partial";
  // Take ours out everywhere, then (installing) put them back at the end of each event's list.
  const next: typeof hooks = {};
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) {
      next[event] = groups;
      continue;
    }
    const kept = groups
      .map((g) => (Array.isArray(g.hooks) ? { ...g, hooks: g.hooks.filter((h) => !isOurs(h.command, t.agent)) } : g))
      .filter((g) => !Array.isArray(g.hooks) || g.hooks.length > 0);
    if (kept.length) next[event] = kept;
  }
  if (!remove) {
    for (const [event, matcher] of Object.entries(events)) {
      const command = [...t.cw, "hook", t.agent, event].map(shellWord).join(" ");
      // Claude Code counts a hook's timeout in seconds, Gemini CLI in milliseconds.
      const hook = { type: "command", command, timeout: t.agent === "claude" ? 5 : 5000 };
      (next[event] ??= []).push({ matcher, hooks: [hook] });
    }
  }
  const out = { ...settings, hooks: next };
  if (Object.keys(next).length === 0) delete (out as Record<string, unknown>).hooks;
  const text = `${JSON.stringify(out, null, 2)}\n`;
  const same = old !== undefined && JSON.stringify(JSON.parse(old.trim() || "{}")) === JSON.stringify(out);
  return { agent: t.agent, path, before, ...(same || (remove && old === undefined) ? {} : { text }) };
}

function isOurs(command: string | undefined, agent: AgentName, event?: string): boolean {
  const m = command ? OURS.exec(command) : null;
  return !!m && m[1] === agent && (event === undefined || command!.trimEnd().endsWith(` ${event}`)) && /cw\b/.test(command!);
}

/** Codex: `notify = [...]` at the top level of config.toml, before any [table]. */
function planCodex(t: InstallTarget, path: string, old: string | undefined, remove: boolean): HookPlan {
  const lines = (old ?? "").split("\n");
  const firstTable = lines.findIndex((l) => /^\s*\[/.test(l));
  const top = firstTable < 0 ? lines.length : firstTable;
  const at = lines.slice(0, top).findIndex((l) => /^\s*notify\s*=/.test(l));
  const ours = at >= 0 && /\bhook["']?\s*,\s*["']codex["']\s*,\s*["']notify["']/.test(lines[at]!);
  const before = ours ? "installed" : "absent";
  const line = `notify = ${JSON.stringify([...t.cw, "hook", "codex", "notify"]).replace(/","/g, '", "')}`;
  if (at >= 0 && !ours) {
    return { agent: "codex", path, before, skipped: remove ? undefined : `${path} already runs its own notify program (${lines[at]!.trim()}); cw's was not added` };
  }
  if (remove) {
    if (!ours) return { agent: "codex", path, before };
    lines.splice(at, 1);
    return { agent: "codex", path, before, text: lines.join("\n") };
  }
  if (ours && lines[at] === line) return { agent: "codex", path, before };
  if (ours) lines[at] = line;
  // At the very top: a key after a [table] header would belong to that table.
  else lines.splice(0, 0, line);
  const text = lines.join("\n");
  return { agent: "codex", path, before, text: text.endsWith("\n") ? text : `${text}\n` };
}

/** Writes a plan's new text: beside the old file, then renamed over it (keeping its mode). */
export function applyPlan(plan: HookPlan): void {
  if (plan.text === undefined || plan.skipped) return;
  mkdirSync(dirname(plan.path), { recursive: true });
  const tmp = `${plan.path}.cw-${process.pid}`;
  writeFileSync(tmp, plan.text, { mode: 0o600 });
  if (existsSync(plan.path)) chmodSync(tmp, statSync(plan.path).mode & 0o777);
  renameSync(tmp, plan.path);
}
