import { z } from "zod";
import { SessionInfo, SessionStatus } from "../../protocol";
import { tags } from "../fields";
import { sessionLine } from "../format";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_list_sessions",
  title: "List sessions",
  description: [
    "List the sessions on this node: running ones and those that completed, were killed or were lost, with id, name, command, status, exit code, tags, duration and output size, and what each agent is doing (agent_state: working, needs-input, idle, or none for a plain program).",
    "Use it to find a session's id or name, to see which workers are still running, or to check exit codes after a wait. Filter by status and tags.",
    "Returns the newest `limit` sessions (oldest first) and the total that matched.",
  ].join("\n"),
  input: {
    status: SessionStatus.optional().describe("Only sessions with this status."),
    tags: tags.optional(),
    limit: z.number().int().min(1).max(500).default(100).describe("At most this many sessions, the newest. Default 100."),
  },
  output: { sessions: z.array(SessionInfo), total: z.number().int(), truncated: z.boolean() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(a) {
    const { sessions: all } = await call({ type: "ListSessions", ...(a.status ? { status: a.status } : {}), ...(a.tags ? { tags: a.tags } : {}) }, "SessionList");
    const sessions = all.slice(-a.limit);
    const truncated = sessions.length < all.length;
    const head = all.length === 0 ? "No sessions match." : `${all.length} session${all.length === 1 ? "" : "s"}${truncated ? ` (showing the newest ${sessions.length}; raise limit for more)` : ""}:`;
    return { text: [head, ...sessions.map(sessionLine)].join("\n"), data: { sessions, total: all.length, truncated } };
  },
});
