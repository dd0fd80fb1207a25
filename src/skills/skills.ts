/**
 * The Claude Code skills of .claude/skills/, embedded in the binary so that `cw skills install`
 * needs no network and installs exactly the skills of this version of cw.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import codewire from "../../.claude/skills/codewire/SKILL.md" with { type: "text" };
import codewireDev from "../../.claude/skills/codewire-dev/SKILL.md" with { type: "text" };

export interface Skill {
  name: string;
  /** What it is for, in a line (`cw skills install` says what it installed). */
  summary: string;
  text: string;
}

/** codewire: using cw. codewire-dev: working on codewire itself (only with --dev). */
export const SKILLS: { codewire: Skill; dev: Skill } = {
  codewire: { name: "codewire", summary: "launch, monitor and coordinate sessions with cw", text: codewire },
  dev: { name: "codewire-dev", summary: "build, test and benchmark the codewire codebase", text: codewireDev },
};

/** Where Claude Code looks for personal skills: $CLAUDE_CONFIG_DIR/skills, else ~/.claude/skills. */
export function defaultSkillsDir(): string {
  const config = process.env.CLAUDE_CONFIG_DIR;
  return config ? join(config, "skills") : join(homedir(), ".claude", "skills");
}

/** Writes each skill to <dir>/<name>/SKILL.md (replacing it whole); returns the paths written. */
export function installSkills(dir: string, skills: Skill[]): string[] {
  return skills.map((s) => {
    const into = join(dir, s.name);
    mkdirSync(into, { recursive: true });
    const path = join(into, "SKILL.md");
    // Whole or not at all: Claude Code may read the skill while it is being replaced.
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, s.text);
    renameSync(tmp, path);
    return path;
  });
}
