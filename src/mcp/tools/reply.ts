import { Message, MsgReply } from "../../protocol";
import { sender } from "../fields";
import { messageLine } from "../format";
import { call } from "../node";
import { callerSession, defineTool } from "../tool";

export default defineTool({
  name: "codewire_reply",
  title: "Reply to a request",
  description: [
    "Answer a pending request from another session (or the user). The requester, blocked in codewire_request or `cw request`, gets the reply at once; it is also stored in the requester's inbox.",
    "Use it when codewire_read_messages (or a message.request event) shows a REQUEST addressed to you; pass its id (req_…). A request can be answered once, and not after it expired.",
    "Returns the stored reply message.",
  ].join("\n"),
  input: {
    request_id: MsgReply.shape.request_id.describe("The request's id, e.g. req_x7y8z9."),
    body: MsgReply.shape.body.describe("The answer (at most 64 KiB)."),
    from: sender.optional().describe("Who answers: a session id or name. Defaults to the session this MCP server runs inside, else the request's recipient."),
  },
  output: { message: Message },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  async run(a) {
    const from = a.from ?? callerSession();
    const r = await call({ type: "MsgReply", request_id: a.request_id, body: a.body, ...(from !== undefined ? { from } : {}) }, "MsgReplySent");
    return { text: `Replied: ${messageLine(r.message)}`, data: { message: r.message } };
  },
});
