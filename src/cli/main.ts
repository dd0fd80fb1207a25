/**
 * The cw command line: a table of commands (loaded lazily, so `cw list` does not pay for the
 * node or the MCP server), `--help` with examples everywhere, and one error path.
 */
import { VERSION } from "../version";
import { parseCommandArgs } from "./args";
import { type AnyCommand, collect } from "./define";
import { EXIT, report, UsageError } from "./errors";
import { bold, cyan, dim, err, out } from "./output";

type Loader = () => Promise<{ default: AnyCommand }>;

/** The command table, in the order `cw --help` lists them. */
export const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  launch: { summary: "Start a program in a new persistent session", load: () => import("./commands/launch") },
  list: { summary: "List sessions (running, completed, killed)", load: () => import("./commands/list") },
  attach: { summary: "Connect your terminal to a session (Ctrl+B d detaches)", load: () => import("./commands/attach") },
  logs: { summary: "Print a session's output, optionally following it", load: () => import("./commands/logs") },
  kill: { summary: "Terminate sessions by id, name, tag or all", load: () => import("./commands/kill") },
  send: { summary: "Type input into a session without attaching", load: () => import("./commands/send") },
  watch: { summary: "Follow a session's output read-only", load: () => import("./commands/watch") },
  status: { summary: "Show a session's details and recent output", load: () => import("./commands/status") },
  screen: { summary: "Print a session's current screen as text", load: () => import("./commands/screen") },
  subscribe: { summary: "Stream session events", load: () => import("./commands/subscribe") },
  wait: { summary: "Block until sessions finish", load: () => import("./commands/wait") },
  start: { summary: "Start the node in the background", load: () => import("./commands/start") },
  node: { summary: "Run the node in the foreground", load: () => import("./commands/node") },
  stop: { summary: "Stop the node gracefully", load: () => import("./commands/stop") },
  msg: { summary: "Send a direct message to a session", load: () => import("./commands/msg") },
  inbox: { summary: "Read a session's messages", load: () => import("./commands/inbox") },
  request: { summary: "Send a request and wait for the reply", load: () => import("./commands/request") },
  reply: { summary: "Reply to a pending request", load: () => import("./commands/reply") },
  listen: { summary: "Stream message traffic between sessions", load: () => import("./commands/listen") },
  broadcast: { summary: "Message every session (or every session with a tag)", load: () => import("./commands/broadcast") },
  kv: { summary: "Shared key-value store (set, get, list, delete)", load: () => import("./commands/kv") },
  "mcp-server": { summary: "Serve MCP tools on stdio (for Claude Code and other agents)", load: () => import("./commands/mcp-server") },
  mcp: { summary: "Register the MCP server with Claude Code (mcp install)", load: () => import("./commands/mcp") },
  completion: { summary: "Print shell completions (bash, zsh, fish)", load: () => import("./commands/completion") },
  service: { summary: "Run the node as a login service (systemd, launchd)", load: () => import("./commands/service") },
  server: { summary: "Save remote nodes for --server (add, remove, list)", load: () => import("./commands/server") },
  setup: { summary: "Register this node with a relay and connect it", load: () => import("./commands/setup") },
  nodes: { summary: "List the nodes of this machine's relay", load: () => import("./commands/nodes") },
  tokens: { summary: "The relay's user tokens: list, create, revoke (admin)", load: () => import("./commands/tokens") },
  grant: { summary: "Let one node's token reach another node (admin)", load: () => import("./commands/grant") },
  relay: { summary: "Run a relay: reach nodes behind NAT, shared KV, SSH gateway", load: () => import("./commands/relay") },
};

/** Commands about this machine itself: `--server` does not apply to them. */
const LOCAL_ONLY = new Set(["node", "start", "stop", "service", "mcp", "completion", "server", "setup", "nodes", "tokens", "grant", "relay"]);

function rootHelp(): string {
  const names = Object.keys(COMMANDS);
  const w = Math.max(...names.map((n) => n.length));
  return [
    `${bold("cw")} ${dim(VERSION)} — persistent sessions for AI coding agents`,
    "",
    `${bold("USAGE")}  cw [--server <name|url> | --node <node>] <command> [options]`,
    "",
    bold("COMMANDS"),
    ...names.map((n) => `  ${cyan(n.padEnd(w))}  ${COMMANDS[n]!.summary}`),
    "",
    bold("EXAMPLES"),
    "  cw launch -- claude -p \"fix the auth bug\"",
    "  cw list",
    "  cw attach 1            # Ctrl+B then d to detach",
    "  cw logs 1 --tail 100",
    "  cw --server my-gpu list   # a node on another machine (see cw server --help)",
    "  cw --node dev-1 kill --all   # a node of your relay (see cw setup --help)",
    "",
    `Run ${cyan("cw <command> --help")} for a command's options. Data lives in $CODEWIRE_HOME (default ~/.codewire).`,
  ].join("\n");
}

export function commandHelp(cmd: AnyCommand): string {
  const args = Object.entries(cmd.args as Record<string, { type?: string; alias?: string | string[]; description?: string; negativeDescription?: string; default?: unknown; valueHint?: string; required?: boolean }>);
  const positional = args.filter(([, a]) => a.type === "positional");
  const options = args.filter(([, a]) => a.type !== "positional");
  const usage = cmd.usage ?? `cw ${cmd.name}${options.length ? " [options]" : ""}${positional.map(([n, a]) => (a.required === false ? ` [${n}]` : ` <${n}>`)).join("")}`;
  const flag = ([n, a]: [string, (typeof args)[number][1]]) => {
    const aliases = (Array.isArray(a.alias) ? a.alias : a.alias ? [a.alias] : []).map((x) => `-${x}`);
    const value = a.type === "string" || a.type === "enum" ? ` <${a.valueHint ?? n}>` : "";
    return [...aliases, `--${n}`].join(", ") + value;
  };
  const rows = options.map((o) =>
    // A switch that is on by default is offered as the flag that turns it off.
    o[1].type === "boolean" && o[1].default === true && o[1].negativeDescription
      ? [`--no-${o[0]}`, o[1].negativeDescription]
      : [flag(o), `${o[1].description ?? ""}${o[1].default !== undefined && o[1].default !== false ? dim(` (default: ${o[1].default})`) : ""}`],
  );
  rows.push(["-h, --help", "Show this help"]);
  const w = Math.max(...rows.map((r) => r[0]!.length), ...positional.map(([n]) => n.length));
  return [
    cmd.description,
    "",
    `${bold("USAGE")}  ${usage}`,
    ...(positional.length ? ["", bold("ARGUMENTS"), ...positional.map(([n, a]) => `  ${cyan(n.padEnd(w))}  ${a.description ?? ""}`)] : []),
    "",
    bold("OPTIONS"),
    ...rows.map(([f, d]) => `  ${cyan(f!.padEnd(w))}  ${d}`),
    "",
    bold("EXAMPLES"),
    ...cmd.examples.map((e) => `  ${e}`),
  ].join("\n");
}

/** Where a command goes, from the options before its name: `--server <name|url>` or `--node <name>`. */
interface Target {
  flag?: "server" | "node";
  value?: string;
  rest: string[];
}

function splitTarget(argv: string[]): Target | { error: string } {
  let t: Target = { rest: argv };
  for (;;) {
    const [first, second] = t.rest;
    const m = /^--(server|node)(?:=(.*))?$/.exec(first ?? "");
    if (!m) return t;
    if (t.flag) return { error: "give either --server or --node, once" };
    const value = m[2] ?? second ?? "";
    if (!value) return { error: m[1] === "server" ? "--server needs a saved server's name or a ws:// URL" : "--node needs a node's name (`cw nodes` lists them)" };
    t = { flag: m[1] as "server" | "node", value, rest: t.rest.slice(m[2] !== undefined ? 1 : 2) };
  }
}

export async function main(argv: string[]): Promise<number> {
  const split = splitTarget(argv);
  if ("error" in split) {
    err(`error: ${split.error}\nhint: cw --server <name|url> <command>, or cw --node <node> <command>\n`);
    return EXIT.usage;
  }
  const [name, ...rawArgs] = split.rest;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    if (name === "help" && rawArgs[0] && COMMANDS[rawArgs[0]]) return main([rawArgs[0], "--help"]);
    out(`${rootHelp()}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    out(`cw ${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    err(`error: unknown command ${JSON.stringify(name)}\nhint: run \`cw --help\` to see the commands\n`);
    return EXIT.usage;
  }
  if (split.flag && LOCAL_ONLY.has(name)) {
    err(`error: cw ${name} works on this machine; --${split.flag} does not apply to it\nhint: run it on that machine, or drop --${split.flag}\n`);
    return EXIT.usage;
  }
  // An explicit --server or --node wins; CODEWIRE_SERVER is ambient and left out of local-only commands.
  const server = split.flag === "server" ? split.value : split.flag || LOCAL_ONLY.has(name) ? undefined : process.env.CODEWIRE_SERVER || undefined;
  const cmd = (await entry.load()).default;
  const dash = rawArgs.indexOf("--");
  const before = dash < 0 ? rawArgs : rawArgs.slice(0, dash);
  const rest = dash < 0 ? [] : rawArgs.slice(dash + 1);
  if (before.includes("--help") || before.includes("-h")) {
    out(`${commandHelp(cmd)}\n`);
    return EXIT.ok;
  }
  try {
    // Loaded only when asked for: `cw --version` and friends need neither.
    if (server !== undefined) {
      const [{ useServer }, { dataDir }] = await Promise.all([import("../client/remote-target"), import("../config/paths")]);
      await useServer(server, dataDir());
    }
    if (split.flag === "node") (await import("./target")).onNode(split.value!);
    const args = parseCommandArgs(name, before, cmd.args, cmd.textAfterDash ? rest : undefined);
    const status = await cmd.run({ args: args as never, rest: cmd.textAfterDash ? [] : rest, all: (n, alias) => collect(before, n, alias) });
    return status ?? EXIT.ok;
  } catch (e) {
    return report(e);
  }
}
