import { z } from "zod";
import { SessionInfo } from "../../protocol";
import { session } from "../fields";
import { sessionLine } from "../format";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_get_session_status",
  title: "Get session status",
  description: [
    "Get one session's details: status (running, completed, killed, lost), exit code, PID, start and end time, duration, output size, attached clients, what its agent is doing (agent_state: working, needs-input = waiting for a person, idle = turn over, none), and its last lines of output as plain text (what its terminal shows: cursor moves and overwrites applied).",
    "Use it for a quick check on a session; for more output use codewire_read_session_output, to block until it ends use codewire_wait_for.",
    "Returns the session, its recent output and the path of its full output log.",
  ].join("\n"),
  input: {
    session,
    recent_lines: z.number().int().min(0).max(200).default(20).describe("Lines of recent output to include, as text exactly as the session's terminal shows it. Default 20."),
  },
  output: { session: SessionInfo, recent_output: z.string(), log_path: z.string() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(a) {
    const r = await call({ type: "GetStatus", id: a.session, recent_lines: a.recent_lines }, "SessionStatus");
    const s = r.session;
    const lines = [sessionLine(s), `pid ${s.pid ?? "-"} · started ${s.created_at}${s.completed_at ? ` · ended ${s.completed_at}` : ""} · dir ${s.working_dir} · log ${r.log_path}`];
    if (a.recent_lines > 0) lines.push(r.recent_output.trim() ? `--- last ${a.recent_lines} lines ---\n${r.recent_output}` : "(no output yet)");
    return { text: lines.join("\n"), data: { session: s, recent_output: r.recent_output, log_path: r.log_path } };
  },
});
