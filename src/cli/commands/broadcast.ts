import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { delivery, optionalFrom, SENDER_ARGS, senderRef } from "../messaging";
import { err, out, printJson } from "../output";

export default defineCwCommand({
  name: "broadcast",
  description: "Send a message to every running session, or every running session with a tag (the sender itself excluded). With --peers, to the running sessions (with the tag) of every paired peer instead, signed and sealed to each (cw peer).",
  usage: "cw broadcast [--tag <tag>] [--peers] <body> [-f <session>]",
  examples: ['cw broadcast "stop and commit your work"', 'cw broadcast --tag worker "the API changed: pull main"', 'cw broadcast --peers --tag reviewer "v2 is tagged"'],
  textAfterDash: true,
  args: {
    body: { type: "positional", description: "The message" },
    tag: { type: "string", alias: "t", description: "Only sessions with this tag (repeatable)" },
    ...SENDER_ARGS,
    peers: { type: "boolean", description: "To every paired peer's sessions (cw peer list) instead of this node's" },
    json: { type: "boolean", description: "Print the stored messages as JSON" },
  },
  async run({ args, all }) {
    const tags = all("tag", "t");
    if (args.peers) {
      const from = senderRef(args.from as string | undefined);
      const r = await call({ type: "PeerBroadcast", body: String(args.body ?? ""), ...(tags.length ? { tags } : {}), ...(from !== undefined ? { from } : {}) }, "PeerBroadcastSent", { blocking: true });
      if (args.json) return printJson({ sent: r.sent, failed: r.failed });
      if (r.sent.length) out(`sent to ${r.sent.join(", ")}\n`);
      for (const f of r.failed) err(`error: not sent to ${f.handle}: ${f.error}\n`);
      return r.failed.length ? 1 : 0;
    }
    const r = await call({ type: "Broadcast", body: String(args.body ?? ""), ...(tags.length ? { tags } : {}), ...optionalFrom(args.from as string | undefined), delivery: delivery(args.delivery as string | undefined) }, "BroadcastSent", { blocking: true });
    if (args.json) return printJson(r.messages);
    out(r.messages.length ? `sent to ${r.messages.map((m) => m.to?.name ?? m.to?.id).join(", ")}\n` : "no running session to send to\n");
  },
});
