import { z } from "zod";
import { Kill } from "../../protocol";
import { session, tags } from "../fields";
import { call } from "../node";
import { defineTool, ToolError } from "../tool";

export default defineTool({
  name: "codewire_kill_session",
  title: "Kill sessions",
  description: [
    "Terminate sessions: one by id or name, every running session with any of the given tags, or all running sessions. Every process the session started is ended, also daemons that left its process group: they get SIGHUP and SIGTERM (or the given signal alone) and SIGKILL if still there after 3 seconds. A session whose program ended but left processes running (its status lists them as survivors) has those ended.",
    "Use it to stop a stuck or finished-with worker, or to clean up a group (tags) at the end. Give exactly one of session, tags or all.",
    "Returns the ids of the sessions that were killed (empty when nothing matching was running).",
  ].join("\n"),
  input: {
    session: session.optional(),
    tags: tags.optional(),
    all: z.boolean().optional().describe("Kill every running session on the node."),
    signal: Kill.shape.signal.describe("Send this signal alone instead of SIGHUP and SIGTERM (SIGKILL still follows after 3 seconds)."),
  },
  output: { killed: z.array(z.number().int()) },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(a) {
    const chosen = [a.session !== undefined, a.tags !== undefined, a.all === true].filter(Boolean).length;
    if (chosen !== 1) throw new ToolError("say what to kill: exactly one of session, tags or all", 'e.g. {"session": 3} or {"tags": ["worker"]}');
    let killed: number[];
    if (a.all) killed = (await call({ type: "KillAll", signal: a.signal }, "KilledAll")).ids;
    else if (a.tags) killed = (await call({ type: "KillByTags", tags: a.tags, signal: a.signal }, "Killed")).ids;
    else killed = (await call({ type: "Kill", id: a.session!, signal: a.signal }, "Killed")).ids;
    return { text: killed.length ? `Killed session${killed.length === 1 ? "" : "s"} ${killed.join(", ")}.` : "Nothing matching was running.", data: { killed } };
  },
});
