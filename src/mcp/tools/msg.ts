import { remoteSender } from "../../client/remote-sender";
import { dataDir } from "../../config/paths";
import { z } from "zod";
import { Message, MsgSend } from "../../protocol";
import { sender, session } from "../fields";
import { messageLine } from "../format";
import { call } from "../node";
import { callerSession, defineTool } from "../tool";

export default defineTool({
  name: "codewire_msg",
  title: "Send a message",
  description: [
    "Send a direct message to a running session's inbox. The message is stored before this returns; the recipient reads it with codewire_read_messages or `cw inbox`, and it shows up as a direct.message event.",
    'Use it to hand an agent information or an instruction without waiting for an answer (for an answer, use codewire_request). delivery "pty" or "both" also types the message into the recipient\'s terminal, for agents that only read their terminal.',
    "Returns the stored message (id, from, to, body, time) and, with pty delivery, whether the terminal took it.",
  ].join("\n"),
  input: {
    to: session.describe("The recipient session: id or name."),
    body: MsgSend.shape.body.describe("The message text (at most 64 KiB)."),
    from: sender.optional(),
    delivery: MsgSend.shape.delivery.describe('inbox (default): only the inbox; pty: also type it into the terminal; both: the same as pty.'),
  },
  output: { message: Message, delivered_to_pty: z.boolean().optional() },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  async run(a) {
    const from = a.from ?? callerSession();
    const r = await call({ type: "MsgSend", to: a.to, body: a.body, delivery: a.delivery, ...(from !== undefined ? { from } : remoteSender(dataDir())) }, "MsgSent");
    const pty = r.delivered_to_pty === undefined ? "" : r.delivered_to_pty ? " (typed into its terminal)" : " (stored; typing it into the terminal did not take)";
    return {
      text: `Sent${pty}: ${messageLine(r.message)}`,
      data: { message: r.message, ...(r.delivered_to_pty !== undefined ? { delivered_to_pty: r.delivered_to_pty } : {}) },
    };
  },
});
