/**
 * A session as `--json` prints it: every field the README documents, in its order, each present
 * (null when it has no value), so that a script can read `.name` without checking it exists.
 */
import type { SessionInfo } from "../protocol";

export function sessionJson(s: SessionInfo): Record<string, unknown> {
  const documented = {
    id: s.id,
    name: s.name ?? null,
    prompt: s.prompt,
    command: s.command,
    working_dir: s.working_dir,
    tags: s.tags,
    status: s.status,
    exit_code: s.exit_code,
    pid: s.pid,
    created_at: s.created_at,
    completed_at: s.completed_at,
    duration_ms: s.duration_ms,
    output_bytes: s.output_bytes,
    last_output_at: s.last_output_at,
    attached_count: s.attached_count,
    cols: s.cols,
    rows: s.rows,
    terminal: s.terminal ?? true,
    orphan_pid: s.orphan_pid ?? null,
    survivors: s.survivors ?? [],
  };
  // Fields a newer node adds follow the documented ones instead of vanishing.
  return { ...documented, ...s, ...documented };
}
