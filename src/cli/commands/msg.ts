import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { delivery, formatMessage, optionalFrom, SENDER_ARGS, senderRef } from "../messaging";
import { inboxOnly, peerAddress } from "../peer-address";
import { err, out, printJson } from "../output";
import { sessionRef } from "../target";
import { endToEnd, ownNodeAddress } from "../own-node";

export default defineCwCommand({
  name: "msg",
  description: "Send a direct message to a session (by id or name). It lands in the target's inbox and events; with --delivery pty|both it is also typed into the target's terminal (bracketed paste, then Enter).",
  usage: "cw msg <target> <body> [-f <session>] [--delivery inbox|pty|both]",
  examples: ['cw msg coder "start with the auth module"', 'cw msg bob@relay.example.com:coder "the API changed"   # a paired peer\'s session (cw peer), end to end', 'cw msg 2 "start with the auth module"', 'cw msg -f planner coder "start with the auth module"', 'cw msg coder "rebase on main" --delivery both', 'cw msg coder -- "-x is the flag to drop"   # text that starts with -: after --'],
  textAfterDash: true,
  args: {
    target: { type: "positional", description: "Session id or name to send to" },
    body: { type: "positional", description: "The message" },
    ...SENDER_ARGS,
    json: { type: "boolean", description: "Print the stored message as JSON" },
  },
  async run({ args }) {
    const peer = peerAddress(args.target as string | undefined);
    const from = peer ? senderRef(args.from as string | undefined) : undefined;
    if (peer) inboxOnly(args.delivery as string | undefined);
    const own = peer ? undefined : ownNodeAddress(args.target as string | undefined);
    const e2e = own
      ? await endToEnd(() => {
          const from = senderRef(args.from as string | undefined);
          const how = delivery(args.delivery as string | undefined);
          return call({ type: "PeerMsg", to: `node:${own.node}`, session: own.session, body: String(args.body ?? ""), ...(from !== undefined ? { from } : {}), ...(how !== "inbox" ? { delivery: how } : {}) }, "MsgSent", { blocking: true });
        })
      : undefined;
    const r = e2e
      ? e2e
      : peer
      ? await call({ type: "PeerMsg", to: peer.handle, session: peer.session, body: String(args.body ?? ""), ...(from !== undefined ? { from } : {}) }, "MsgSent", { blocking: true })
      : await call({ type: "MsgSend", to: sessionRef(args.target as string, "target"), body: String(args.body ?? ""), ...optionalFrom(args.from as string | undefined), delivery: delivery(args.delivery as string | undefined) }, "MsgSent", { blocking: true });
    if (args.json) return printJson({ ...r.message, ...(r.delivered_to_pty !== undefined ? { delivered_to_pty: r.delivered_to_pty } : {}) });
    out(`sent ${r.message.id}: ${formatMessage(r.message)}\n`);
    if (r.delivered_to_pty === false) err("warning: typed into the terminal but the program did not seem to take it; it is in the inbox\n");
  },
});
