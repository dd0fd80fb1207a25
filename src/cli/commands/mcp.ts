import { selfCommand } from "../../sys/self";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { dim, err, out } from "../output";

const SCOPES = ["user", "project", "local"] as const;

/** Quotes a word for a POSIX shell only when it needs it, so the one-liner stays readable. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export default defineCwCommand({
  name: "mcp",
  description:
    "Register codewire's MCP server (`cw mcp-server`) with Claude Code, so the agent gets the codewire_* tools. Runs `claude mcp add` when the claude CLI is on PATH; otherwise (and with --dry-run) prints the exact command to run. `uninstall` removes the registration.",
  usage: "cw mcp install|uninstall [--scope user|project|local] [--dry-run]",
  examples: ["cw mcp install", "cw mcp install --scope project", "cw mcp install --dry-run", "cw mcp uninstall"],
  args: {
    action: { type: "positional", description: "install or uninstall" },
    scope: { type: "string", description: "user: every project; project: this project's .mcp.json (shared via git); local: this project, only you", default: "user", valueHint: "user|project|local" },
    "dry-run": { type: "boolean", description: "Print the command instead of running it" },
  },
  async run({ args }) {
    const action = args.action as string;
    if (action !== "install" && action !== "uninstall") throw new UsageError(`unknown action ${JSON.stringify(action)}`, "cw mcp install | cw mcp uninstall");
    const scope = String(args.scope);
    if (!SCOPES.includes(scope as (typeof SCOPES)[number])) throw new UsageError(`--scope is one of ${SCOPES.join(", ")}; got ${JSON.stringify(scope)}`);
    // The absolute path of this very cw, so Claude Code does not depend on its own PATH.
    const server = [...selfCommand(), "mcp-server"];
    const argv = action === "install" ? ["claude", "mcp", "add", "--scope", scope, "codewire", "--", ...server] : ["claude", "mcp", "remove", "--scope", scope, "codewire"];
    const line = argv.map(shellWord).join(" ");
    const claude = Bun.which("claude");
    if (args["dry-run"] || !claude) {
      if (!claude && !args["dry-run"]) err(dim("claude (Claude Code) is not on PATH; run this where it is:\n", 2));
      out(`${line}\n`);
      if (action === "install") {
        err(dim(`Other MCP clients: ${JSON.stringify({ mcpServers: { codewire: { command: server[0], args: server.slice(1) } } })}\n`, 2));
      }
      return 0;
    }
    err(dim(`$ ${line}\n`, 2));
    const p = Bun.spawn([claude, ...argv.slice(1)], { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    const code = await p.exited;
    if (code !== 0) err(`claude exited ${code}${action === "install" ? "; if codewire is already registered, run `cw mcp uninstall` first" : ""}\n`);
    return code;
  },
});
