/**
 * `cw hook <agent> <event> [json]`: what an agent's hook runs (set up by `cw hooks install`). It
 * tells the local node which session's agent did what, and always exits 0 at once, silently:
 * outside a cw session, with no node running, or with anything amiss it does nothing, so it
 * never disturbs the agent that runs it. It never starts a node.
 */
import { readFileSync } from "node:fs";
import { quickCall } from "../../client/quick-call";
import { dataDir, pathsFor } from "../../config/paths";
import { AGENT_NAMES, type AgentName } from "../../protocol/constants";
import { isatty } from "../../sys/libc";
import { defineCwCommand } from "../define";

/** The node answers a hook at once; past this the agent should not wait on us. */
const HOOK_TIMEOUT_MS = 1000;
const MAX_FIELDS = 40;
const MAX_STRING = 500;

/** The event's top-level scalar fields, cut short: enough to tell one notification from another. */
function fieldsOf(json: string): Record<string, string | number | boolean | null> {
  const fields: Record<string, string | number | boolean | null> = {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return fields;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return fields;
  for (const [k, v] of Object.entries(parsed)) {
    if (Object.keys(fields).length >= MAX_FIELDS) break;
    if (typeof v === "string") fields[k] = v.slice(0, MAX_STRING);
    else if (typeof v === "number" || typeof v === "boolean" || v === null) fields[k] = v;
  }
  return fields;
}

export default defineCwCommand({
  name: "hook",
  description:
    "Tell the node what an agent's hook says: run by the hooks `cw hooks install` sets up, with the hook's JSON on stdin (or, for Codex's notify, as the last argument). Finds its session from CW_SESSION_ID; always exits 0, silently.",
  usage: "cw hook <claude|codex|gemini> <event> [json]",
  examples: ["cw hook claude Stop < event.json", "cw hook codex notify '{\"type\":\"agent-turn-complete\"}'"],
  args: {
    // Not required: a hook misconfigured by hand must not see an error either.
    agent: { type: "positional", required: false, description: "claude, codex or gemini" },
    event: { type: "positional", required: false, description: "The hook event (Stop, Notification, notify, …)" },
    json: { type: "positional", required: false, description: "The event's JSON (default: read from stdin)" },
  },
  run({ args }) {
    try {
      const id = process.env.CW_SESSION_ID;
      const agent = args.agent as string;
      // Outside a cw session (or for an agent cw does not know): nothing to say, to no one.
      if (!id || !/^\d+$/.test(id) || !(AGENT_NAMES as readonly string[]).includes(agent) || !args.event) return 0;
      const json = (args.json as string | undefined) ?? (isatty(0) ? "" : readFileSync(0, "utf8"));
      quickCall(pathsFor(dataDir()).socket, { type: "HookEvent", id: Number(id), agent: agent as AgentName, event: String(args.event).slice(0, 64), fields: fieldsOf(json) }, HOOK_TIMEOUT_MS);
    } catch {
      // A node that is gone, slow or older than this cw: the agent must not notice.
    }
    return 0;
  },
});
