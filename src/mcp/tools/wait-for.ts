import { z } from "zod";
import { SessionInfo, SessionRef, Wait } from "../../protocol";
import { tags } from "../fields";
import { sessionLine } from "../format";
import { awaitReply } from "../node";
import { defineTool, seconds, ticker, ToolError } from "../tool";

export default defineTool({
  name: "codewire_wait_for",
  title: "Wait for sessions to finish",
  description: [
    "Block until sessions end: all of them (condition all, the default) or the first one (condition any), or until timeout_s passes. Name sessions by id or name, or by tags.",
    "Use it instead of polling, e.g. after launching workers: {\"tags\":[\"worker\"],\"timeout_s\":300}. If it times out, the sessions keep running: call again to keep waiting, or codewire_kill_session to stop them.",
    'With state, block instead until the sessions\' agents need input or are idle (their turn over), e.g. {"tags":["agents"],"state":"needs-input","condition":"any"} returns at the first agent that waits for a person.',
    "Returns timed_out, succeeded (every session ended with exit code 0; with state: the agents reached it), and each session's status, exit code and agent_state. Then read results with codewire_read_session_output.",
  ].join("\n"),
  input: {
    sessions: z.array(SessionRef).min(1).optional().describe("Session ids or names to wait for."),
    tags: tags.optional(),
    condition: Wait.shape.condition.describe("all: until every session ended (default); any: until the first one ends."),
    timeout_s: seconds("Give up waiting after this many seconds.", 60, 600),
    state: Wait.shape.state.describe("Wait for the agents in the sessions to be in this state (needs-input: waiting for a person; idle: turn over) instead of for the sessions to end."),
  },
  output: { timed_out: z.boolean(), succeeded: z.boolean(), sessions: z.array(SessionInfo) },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(a, ctx) {
    if (!a.sessions && !a.tags) throw new ToolError("wait for what? give sessions (ids or names) or tags", '{"sessions": [3]} or {"tags": ["worker"]}');
    const what = a.sessions ? `session${a.sessions.length === 1 ? "" : "s"} ${a.sessions.join(", ")}` : `tag ${a.tags!.join(",")}`;
    const tick = ticker(ctx, a.timeout_s, () => `waiting for ${what}${a.state ? ` to be ${a.state}` : ""} (${a.condition})`);
    let r: Awaited<ReturnType<typeof awaitReply<"Wait", "WaitResult">>>;
    try {
      r = await awaitReply({ type: "Wait", ids: a.sessions ?? [], ...(a.tags ? { tags: a.tags } : {}), condition: a.condition, timeout_s: a.timeout_s, ...(a.state ? { state: a.state } : {}) }, "WaitResult", ctx, a.timeout_s * 1000 + 5000);
    } finally {
      tick.stop();
    }
    if (typeof r === "string") throw new ToolError(r === "cancelled" ? "the wait was cancelled" : "the node stopped answering during the wait", "call codewire_wait_for again");
    const ended = r.sessions.filter((s) => s.status !== "running");
    const there = r.sessions.filter((s) => s.status === "running" && s.agent_state === a.state);
    const succeeded = a.state
      ? !r.timed_out && (a.condition === "any" ? there.length > 0 : there.length === r.sessions.length)
      : !r.timed_out && ended.every((s) => s.status === "completed" && s.exit_code === 0) && ended.length > 0;
    const running = r.sessions.filter((s) => s.status === "running").map((s) => s.id);
    const head = r.timed_out
      ? `Timed out after ${a.timeout_s}s; still running: ${running.join(", ")}. They keep running: call again to keep waiting.`
      : a.state
        ? `Done (${a.condition}): ${succeeded ? `${a.state === "idle" ? "idle" : "needs input"}: ${there.map((s) => s.id).join(", ")}` : `sessions ended before their agents were ${a.state}`}.`
        : `Done (${a.condition}): ${succeeded ? "succeeded (exit code 0)" : "a session failed or was killed"}.`;
    return { text: [head, ...r.sessions.map(sessionLine)].join("\n"), data: { timed_out: r.timed_out, succeeded, sessions: r.sessions } };
  },
});
