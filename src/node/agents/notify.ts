/**
 * `[notify] command` of config.toml: run, through the shell, each time an agent comes to need a
 * person or finishes its turn, with CW_SESSION_ID, CW_SESSION_NAME and CW_AGENT_STATE set. It runs
 * detached from the node (its output discarded), so a slow or failing command costs the node
 * nothing; a command that cannot start is said in node.log.
 */
import type { AgentStateName } from "../../protocol/constants";

export function runNotify(command: string | undefined, session: { id: number; name?: string }, state: AgentStateName, log: (msg: string) => void): void {
  if (!command || (state !== "needs-input" && state !== "idle")) return;
  try {
    const p = Bun.spawn(["/bin/sh", "-c", command], {
      env: { ...process.env, CW_SESSION_ID: String(session.id), CW_SESSION_NAME: session.name ?? "", CW_AGENT_STATE: state },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    p.unref();
    void p.exited.then((code) => {
      if (code !== 0) log(`notify: \`${command}\` exited ${code} (session ${session.id}, ${state})`);
    });
  } catch (e) {
    log(`notify: could not run \`${command}\`: ${(e as Error).message}`);
  }
}
