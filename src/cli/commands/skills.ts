import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { dim, out } from "../output";

export default defineCwCommand({
  name: "skills",
  description:
    "Install the Claude Code skills that come with this cw (embedded in the binary: no network needed): codewire, which teaches an agent the cw workflow, and with --dev also codewire-dev, for working on the codewire codebase itself. They go to ~/.claude/skills/<name>/SKILL.md ($CLAUDE_CONFIG_DIR/skills when set), replacing older copies.",
  usage: "cw skills install [--dev] [--dir <dir>]",
  examples: ["cw skills install", "cw skills install --dev", "cw skills install --dir .claude/skills   # this project only"],
  args: {
    action: { type: "positional", description: "install" },
    dev: { type: "boolean", description: "Also install codewire-dev (how this project is built, tested and benchmarked)" },
    dir: { type: "string", description: "Install into this skills directory (default: ~/.claude/skills)" },
  },
  async run({ args }) {
    if (args.action !== "install") throw new UsageError(`unknown action ${JSON.stringify(args.action)}`, "cw skills install [--dev]");
    const { SKILLS, defaultSkillsDir, installSkills } = await import("../../skills/skills");
    const { resolve } = await import("node:path");
    const dir = args.dir !== undefined ? resolve(args.dir as string) : defaultSkillsDir();
    const chosen = args.dev ? [SKILLS.codewire, SKILLS.dev] : [SKILLS.codewire];
    const paths = installSkills(dir, chosen);
    chosen.forEach((s, i) => out(`installed ${s.name} ${dim(`(${s.summary})`)}: ${paths[i]}\n`));
  },
});
