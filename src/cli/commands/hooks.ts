/**
 * `cw hooks install|status|uninstall`: the agents' own hooks report their state to cw (see
 * node/agents/install.ts for where each agent keeps them and how theirs are kept intact).
 */
import { AGENT_NAMES, type AgentName } from "../../protocol/constants";
import { applyPlan, type HookPlan, HookSettingsError, planHooks, type Scope } from "../../node/agents/install";
import { selfCommand } from "../../sys/self";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { dim, out, printJson } from "../output";

export default defineCwCommand({
  name: "hooks",
  description:
    "Install the agents' hooks that tell cw what they are doing (working, needs input, idle): Claude Code's and Gemini CLI's settings.json hooks, Codex's notify program. Merges with hooks you already have; installing twice changes nothing; uninstall removes only cw's. Agents without hooks are still followed by their screen.",
  usage: "cw hooks install|status|uninstall [--agent claude|codex|gemini|all] [--scope user|project] [--dir <project>] [--dry-run]",
  examples: ["cw hooks install", "cw hooks install --agent claude --scope project", "cw hooks install --dry-run", "cw hooks status --json", "cw hooks uninstall --agent codex"],
  args: {
    action: { type: "positional", description: "install, status or uninstall" },
    agent: { type: "string", description: "Which agent's hooks", default: "all", valueHint: "claude|codex|gemini|all" },
    scope: { type: "string", description: "user: the agent's settings in your home; project: the project's (.claude/, .gemini/)", default: "user", valueHint: "user|project" },
    dir: { type: "string", description: "The project, for --scope project (default: the current directory)" },
    "dry-run": { type: "boolean", description: "Say what would change; write nothing" },
    json: { type: "boolean", description: "Print the result as JSON" },
  },
  run({ args }) {
    const action = args.action as string;
    if (action !== "install" && action !== "status" && action !== "uninstall") throw new UsageError(`unknown action ${JSON.stringify(action)}`, "cw hooks install | cw hooks status | cw hooks uninstall");
    const agentArg = String(args.agent);
    if (agentArg !== "all" && !(AGENT_NAMES as readonly string[]).includes(agentArg)) throw new UsageError(`--agent is one of ${AGENT_NAMES.join(", ")} or all; got ${JSON.stringify(agentArg)}`);
    const scope = String(args.scope);
    if (scope !== "user" && scope !== "project") throw new UsageError(`--scope is user or project; got ${JSON.stringify(scope)}`);
    const agents = agentArg === "all" ? [...AGENT_NAMES] : [agentArg as AgentName];
    const home = process.env.HOME || require("node:os").homedir();
    const dir = (args.dir as string | undefined) ?? process.cwd();
    const dry = !!args["dry-run"] || action === "status";
    const results: Array<HookPlan & { error?: string; hint?: string }> = [];
    let failed = false;
    for (const agent of agents) {
      try {
        const plan = planHooks({ agent, scope: scope as Scope, home, dir, env: process.env, cw: selfCommand() }, action === "uninstall");
        if (!dry) applyPlan(plan);
        results.push(plan);
      } catch (e) {
        if (!(e instanceof HookSettingsError)) throw e;
        failed = true;
        results.push({ agent, path: "-", before: "absent", error: e.message, hint: e.hint });
      }
    }
    if (args.json) {
      printJson(results.map(({ text, ...r }) => ({ ...r, changes: text !== undefined && !r.skipped })));
      return failed ? 1 : 0;
    }
    for (const r of results) {
      const where = r.path === "-" ? "" : ` (${r.path})`;
      let say: string;
      if (r.error) say = `error: ${r.error}\n  hint: ${r.hint}`;
      else if (r.skipped) say = `left alone: ${r.skipped}`;
      else if (action === "status") say = r.before === "installed" ? "installed" : r.before === "partial" ? "partly installed (run cw hooks install)" : "not installed";
      else if (r.text === undefined) say = action === "install" ? "already installed" : "not installed; nothing to remove";
      else say = `${dry ? "would be " : ""}${action === "install" ? (r.before === "absent" ? "installed" : "updated") : "removed"}`;
      out(`${r.agent}: ${say}${dim(where)}\n`);
    }
    return failed ? 1 : 0;
  },
});
