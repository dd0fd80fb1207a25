import { z } from "zod";
import { Message, PeerMsg } from "../../protocol";
import { sender, session } from "../fields";
import { messageLine } from "../format";
import { call } from "../node";
import { callerSession, defineTool } from "../tool";

export default defineTool({
  name: "codewire_peer_msg",
  title: "Message a paired peer's session",
  description: [
    "Send a message to a session on a paired peer's node (another owner's), signed with this node's key and sealed so that only that node can read it; it lands in that session's inbox with your node's verified handle as the sender.",
    "The peer must be paired (codewire_peers shows it as paired); pairing is the owners' decision, not yours. Returns once the peer's relay has stored the message (it is delivered when that node takes its mail).",
  ].join("\n"),
  input: {
    handle: PeerMsg.shape.to.describe("The peer's handle: name@relay-host."),
    to: session.describe("The session on the peer's node: id or name."),
    body: PeerMsg.shape.body.describe("The message text (at most 64 KiB)."),
    from: sender.optional(),
  },
  output: { message: Message },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  onAnyNode: false,
  async run(a) {
    const from = a.from ?? callerSession();
    const r = await call({ type: "PeerMsg", to: a.handle, session: a.to, body: a.body, ...(from !== undefined ? { from } : {}) }, "MsgSent");
    return { text: `Sent, sealed: ${messageLine(r.message)}`, data: { message: r.message } };
  },
});
