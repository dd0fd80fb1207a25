/**
 * Protocol constants that need no schema library: the CLI's start-up path imports these (and
 * types) only, so a quick command like `cw list` does not pay for building every zod schema.
 */
export const SESSION_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,31}$/;

/**
 * Why a new session's name is refused, or undefined if it is a valid name. Names follow
 * SESSION_NAME_RE and are not all digits: every reference that is a number is read as a session
 * id (`cw kill 123` is session 123), so a session named 123 could never be addressed by its name.
 */
export function sessionNameProblem(name: string): string | undefined {
  if (!SESSION_NAME_RE.test(name)) return SESSION_NAME_RULE;
  if (!/\D/.test(name)) return SESSION_NAME_NOT_AN_ID;
  return undefined;
}
export const SESSION_NAME_RULE = "a name is 1-32 characters: letters, digits and hyphens, starting with a letter or digit";
export const SESSION_NAME_NOT_AN_ID = "a name must contain a letter or hyphen, since numbers are session ids";

/**
 * A node's name. It appears in `node:id` addresses and as an SSH user name, so no colons, dots
 * or @; it starts with a letter or digit so it is never mistaken for an option.
 */
export const NODE_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/;

/** A node name made from a host (or configured) name: its first label, in the allowed characters. */
export function nodeNameFrom(host: string): string {
  return host.split(".")[0]!.replace(/[^a-zA-Z0-9-]/g, "-").replace(/^-+/, "").slice(0, 63) || "node";
}

/** ^D: a terminal's end of input, read as end of file by a program in canonical mode. */
export const EOT = new Uint8Array([4]);

export const SESSION_STATUSES = ["running", "completed", "killed", "lost"] as const;
export type SessionStatusName = (typeof SESSION_STATUSES)[number];

export const EVENT_TYPES = [
  "session.created",
  "session.status",
  "session.output_summary",
  "session.input",
  "session.attached",
  "session.detached",
  "direct.message",
  "message.request",
  "message.reply",
  "session.state",
] as const;

/**
 * What an agent in a session is doing: a turn in progress, waiting on a person (a permission
 * prompt, a question, a menu), done with its turn, or no signal at all (a plain program).
 */
export const AGENT_STATES = ["working", "needs-input", "idle", "none"] as const;
export type AgentStateName = (typeof AGENT_STATES)[number];
/** Who decided the state: the agent's own hook, or what its screen shows. */
export const AGENT_STATE_SOURCES = ["hook", "screen"] as const;
export type AgentStateSource = (typeof AGENT_STATE_SOURCES)[number];
/** The agents cw knows: their hooks and their screens (node/agents/). */
export const AGENT_NAMES = ["claude", "codex", "gemini"] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** An agent state as people read it: "needs input", "working", "idle"; "-" for none. */
export function describeAgentState(state: string): string {
  return state === "none" ? "-" : state.replace("-", " ");
}

export function describeStatus(s: { status: string; exit_code: number | null; orphan_pid?: number | null; survivors?: number[] }): string {
  const n = s.survivors?.length ?? 0;
  // Processes the program left running (cw kill ends them).
  const left = n ? `, ${n === 1 ? "pid" : "pids"} ${s.survivors!.join(" ")} still ${n === 1 ? "runs" : "run"}` : "";
  if (s.status === "completed") return `completed (${s.exit_code ?? "?"})${left}`;
  if (s.status === "lost" && s.orphan_pid) return `lost (pid ${s.orphan_pid} still runs)${left}`;
  return s.status + left;
}
