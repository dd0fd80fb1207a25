import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { delivery, optionalFrom, SENDER_ARGS } from "../messaging";
import { out, printJson } from "../output";

export default defineCwCommand({
  name: "broadcast",
  description: "Send a message to every running session, or every running session with a tag (the sender itself excluded).",
  usage: "cw broadcast [--tag <tag>] <body> [-f <session>]",
  examples: ['cw broadcast "stop and commit your work"', 'cw broadcast --tag worker "the API changed: pull main"'],
  textAfterDash: true,
  args: {
    body: { type: "positional", description: "The message" },
    tag: { type: "string", alias: "t", description: "Only sessions with this tag (repeatable)" },
    ...SENDER_ARGS,
    json: { type: "boolean", description: "Print the stored messages as JSON" },
  },
  async run({ args, all }) {
    const tags = all("tag", "t");
    const r = await call({ type: "Broadcast", body: String(args.body ?? ""), ...(tags.length ? { tags } : {}), ...optionalFrom(args.from as string | undefined), delivery: delivery(args.delivery as string | undefined) }, "BroadcastSent", { blocking: true });
    if (args.json) return printJson(r.messages);
    out(r.messages.length ? `sent to ${r.messages.map((m) => m.to?.name ?? m.to?.id).join(", ")}\n` : "no running session to send to\n");
  },
});
