import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { formatMessage } from "../messaging";
import { dim, out, printJson } from "../output";
import { positiveNumber, sessionRef } from "../target";

export default defineCwCommand({
  name: "inbox",
  description: "Read a session's inbox: direct messages, requests (with their ids, to answer with `cw reply`) and replies. Messages shown are marked read. Inside a session, defaults to that session.",
  usage: "cw inbox [session] [-t <N>] [--unread] [--json]",
  examples: ["cw inbox coder", "cw inbox planner -t 10", "cw inbox --unread --json"],
  args: {
    session: { type: "positional", required: false, description: "Session id or name (default: $CW_SESSION_ID)" },
    tail: { type: "string", alias: "t", description: "How many of the latest messages (default 50)", valueHint: "N" },
    unread: { type: "boolean", description: "Only unread messages" },
    peek: { type: "boolean", description: "Do not mark the messages read" },
    json: { type: "boolean", description: "Print {messages, unread} as JSON" },
  },
  async run({ args }) {
    const who = (args.session as string | undefined) ?? process.env.CW_SESSION_ID;
    if (!who) throw new UsageError("whose inbox? give a session id or name", "cw inbox coder");
    const tail = Math.min(1000, Math.floor(positiveNumber(args.tail as string | undefined, "--tail") ?? 50));
    const r = await call({ type: "MsgRead", session: sessionRef(who), tail, unread_only: Boolean(args.unread), mark_read: !args.peek }, "MsgReadResult", { blocking: true });
    if (args.json) return printJson({ messages: r.messages, unread: r.unread });
    if (!r.messages.length) {
      out(dim(args.unread ? "no unread messages\n" : "inbox is empty\n"));
      return;
    }
    for (const m of r.messages) {
      const status = m.kind === "request" && m.status ? ` [${m.status}]` : "";
      out(`${dim(m.created_at)} ${m.read ? " " : "*"} ${formatMessage(m)}${status}\n`);
    }
  },
});
