import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { optionalFrom } from "../messaging";
import { out, printJson } from "../output";

export default defineCwCommand({
  name: "reply",
  description: "Reply to a pending request. The request id comes from `cw inbox` or a message.request event; the requester's `cw request` returns with your reply.",
  usage: "cw reply <request-id> <body> [-f <session>]",
  examples: ['cw reply req_x7y8z9 "yes, PR #42 is up" -f coder', 'cw reply req_x7y8z9 "use the users table"'],
  textAfterDash: true,
  args: {
    request: { type: "positional", description: "The request id (req_…)" },
    body: { type: "positional", description: "The reply" },
    from: { type: "string", alias: "f", description: "Reply as this session (default: $CW_SESSION_ID, else the request's target)", valueHint: "session" },
    json: { type: "boolean", description: "Print the stored reply as JSON" },
  },
  async run({ args }) {
    const r = await call({ type: "MsgReply", request_id: String(args.request ?? ""), body: String(args.body ?? ""), ...optionalFrom(args.from as string | undefined) }, "MsgReplySent", { blocking: true });
    if (args.json) return printJson(r.message);
    out(`replied to ${args.request}\n`);
  },
});
