/** The agents cw knows (one file each), and how a session's agent is found. */
import { basename } from "node:path";
import type { AgentName } from "../../protocol/constants";
import { claude } from "./claude";
import { codex } from "./codex";
import { gemini } from "./gemini";
import type { AgentProfile } from "./profile";

export const AGENTS: Record<AgentName, AgentProfile> = { claude, codex, gemini };

/**
 * The agent a command line runs, if one of its first words is an agent's executable
 * (`claude`, `/path/to/.bin/codex`, `npx gemini`, `env X=1 claude`).
 */
export function agentOfCommand(command: string[]): AgentProfile | undefined {
  for (const word of command.slice(0, 4)) {
    const name = basename(word);
    for (const a of Object.values(AGENTS)) if (a.executables.includes(name)) return a;
  }
  return undefined;
}
