import { remoteSender } from "../../client/remote-sender";
import { dataDir } from "../../config/paths";
import { z } from "zod";
import { Broadcast, Message } from "../../protocol";
import { sender, tags } from "../fields";
import { who } from "../format";
import { call } from "../node";
import { callerSession, defineTool } from "../tool";

export default defineTool({
  name: "codewire_broadcast",
  title: "Broadcast a message",
  description: [
    "Send the same direct message to every running session, or to every running session with any of the given tags (the sender itself is skipped). Each copy is stored in that session's inbox before this returns.",
    'Use it to tell a whole group something at once, e.g. {"tags":["worker"],"body":"the API schema changed, pull again"}.',
    "Returns the stored messages, one per recipient (empty when no running session matched).",
  ].join("\n"),
  input: {
    body: Broadcast.shape.body.describe("The message text (at most 64 KiB)."),
    tags: tags.optional().describe("Only sessions with any of these tags; default every running session."),
    from: sender.optional(),
    delivery: Broadcast.shape.delivery.describe("inbox (default), or pty/both to also type it into each terminal."),
  },
  output: { messages: z.array(Message) },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  async run(a) {
    const from = a.from ?? callerSession();
    const r = await call({ type: "Broadcast", body: a.body, delivery: a.delivery, ...(a.tags ? { tags: a.tags } : {}), ...(from !== undefined ? { from } : remoteSender(dataDir())) }, "BroadcastSent");
    const to = r.messages.map((m) => (m.to ? who(m.to) : "user"));
    return { text: r.messages.length ? `Sent to ${r.messages.length} session${r.messages.length === 1 ? "" : "s"}: ${to.join(", ")}.` : "No running session matched; nothing was sent.", data: { messages: r.messages } };
  },
});
