import { z } from "zod";
import { Message, MsgRead } from "../../protocol";
import { session } from "../fields";
import { messageLine } from "../format";
import { call } from "../node";
import { callerSession, defineTool, ToolError } from "../tool";

export default defineTool({
  name: "codewire_read_messages",
  title: "Read an inbox",
  description: [
    "Read a session's inbox: direct messages, requests addressed to it (with their status: pending, replied, expired, failed) and replies to its own requests, newest last. Reading marks them read unless mark_read is false.",
    "Use it to check for instructions or questions from other agents; answer a pending request with codewire_reply and its id (req_…).",
    "Returns the messages (id, kind, from, to, body, time, read, status, request_id) and how many are still unread.",
  ].join("\n"),
  input: {
    session: session.optional().describe("Whose inbox: a session id or name. Defaults to the session this MCP server runs inside (CW_SESSION_ID)."),
    tail: MsgRead.shape.tail.describe("At most this many of the latest messages. Default 50."),
    unread_only: MsgRead.shape.unread_only.describe("Only messages not read yet. Default false."),
    mark_read: MsgRead.shape.mark_read.describe("Mark the returned messages read. Default true."),
  },
  output: { messages: z.array(Message), unread: z.number().int() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(a) {
    const inbox = a.session ?? callerSession();
    if (inbox === undefined) throw new ToolError("whose inbox? give session (id or name)", "this MCP server does not run inside a cw session, so there is no default inbox");
    const r = await call({ type: "MsgRead", session: inbox, tail: a.tail, unread_only: a.unread_only, mark_read: a.mark_read }, "MsgReadResult");
    const head = r.messages.length ? `${r.messages.length} message${r.messages.length === 1 ? "" : "s"} for session ${inbox} (${r.unread} unread left):` : `No ${a.unread_only ? "unread " : ""}messages for session ${inbox}.`;
    return { text: [head, ...r.messages.map(messageLine)].join("\n"), data: { messages: r.messages, unread: r.unread } };
  },
});
