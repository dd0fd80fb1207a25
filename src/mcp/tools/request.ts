import { remoteSender } from "../../client/remote-sender";
import { dataDir } from "../../config/paths";
import { z } from "zod";
import { Message, MsgRequest } from "../../protocol";
import { sender, session } from "../fields";
import { who } from "../format";
import { awaitReply } from "../node";
import { callerSession, defineTool, seconds, ticker, ToolError } from "../tool";

export default defineTool({
  name: "codewire_request",
  title: "Ask a session and wait for the reply",
  description: [
    "Send a request to a running session and block until it replies, the timeout passes, or the session ends (then it fails at once). The recipient sees it in its inbox (and as a message.request event) and answers with `cw reply <request-id> \"...\"` or codewire_reply.",
    'Use it for synchronous coordination between agents: "is the schema ready?", "what port did you bind?". For fire-and-forget, use codewire_msg.',
    "Returns outcome (replied, timeout, target_ended), the request, and the reply message when there is one.",
  ].join("\n"),
  input: {
    to: session.describe("The session to ask: id or name."),
    body: MsgRequest.shape.body.describe("The question (at most 64 KiB)."),
    from: sender.optional(),
    timeout_s: seconds("Stop waiting for the reply after this many seconds.", 60, 600),
    delivery: MsgRequest.shape.delivery.describe("inbox (default), or pty/both to also type the request into the recipient's terminal (for agents that only read their terminal)."),
  },
  output: { outcome: z.enum(["replied", "timeout", "target_ended"]), request: Message, reply: Message.optional() },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  async run(a, ctx) {
    const from = a.from ?? callerSession();
    const tick = ticker(ctx, a.timeout_s, () => `waiting for session ${a.to} to reply`);
    let r: Awaited<ReturnType<typeof awaitReply<"MsgRequest", "MsgRequestResult">>>;
    try {
      r = await awaitReply(
        { type: "MsgRequest", to: a.to, body: a.body, delivery: a.delivery, timeout_s: a.timeout_s, ...(from !== undefined ? { from } : remoteSender(dataDir())) },
        "MsgRequestResult",
        ctx,
        a.timeout_s * 1000 + 5000,
      );
    } finally {
      tick.stop();
    }
    if (typeof r === "string") throw new ToolError(r === "cancelled" ? "the request was cancelled; a later reply still lands in the sender's inbox" : "the node stopped answering while waiting for the reply", "check the inbox with codewire_read_messages");
    const target = r.request.to ? who(r.request.to) : String(a.to);
    const text =
      r.outcome === "replied"
        ? `Reply from ${r.reply?.from ? who(r.reply.from) : target} to ${r.request.id}: ${r.reply?.body ?? ""}`
        : r.outcome === "timeout"
          ? `No reply from ${target} within ${a.timeout_s}s (request ${r.request.id} expired). Ask again with a longer timeout_s, or check on it with codewire_get_session_status.`
          : `Session ${target} ended before replying to ${r.request.id}.`;
    return { text, data: { outcome: r.outcome, request: r.request, ...(r.reply ? { reply: r.reply } : {}) } };
  },
});
