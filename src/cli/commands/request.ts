import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { EXIT, ExitWith } from "../errors";
import { delivery, optionalFrom, SENDER_ARGS, senderRef, who } from "../messaging";
import { inboxOnly, peerAddress } from "../peer-address";
import { err, out, printJson, progress } from "../output";
import { positiveNumber, sessionRef } from "../target";
import { endToEnd, ownNodeAddress } from "../own-node";

export default defineCwCommand({
  name: "request",
  description: "Send a request to a session and block until it replies (`cw reply <request-id> ...`). Exits 0 with the reply, 124 on timeout, 1 if the target session ends first.",
  usage: "cw request <target> <body> [-f <session>] [--timeout <s>]",
  examples: ['cw request -f planner coder "ready for review?"', 'cw request coder "status?" --timeout 30', 'cw request coder "status?" --json'],
  textAfterDash: true,
  args: {
    target: { type: "positional", description: "Session id or name" },
    body: { type: "positional", description: "The request" },
    ...SENDER_ARGS,
    timeout: { type: "string", description: "Seconds to wait for the reply (default 60)", valueHint: "seconds" },
    json: { type: "boolean", description: "Print {request, outcome, reply} as JSON" },
  },
  async run({ args }) {
    const timeout = positiveNumber(args.timeout as string | undefined, "--timeout") ?? 60;
    const bar = progress();
    const started = Date.now();
    const tick = setInterval(() => bar.update(`waiting for ${args.target} to reply — ${Math.round((Date.now() - started) / 1000)}s of ${timeout}s`), 250);
    let r;
    try {
      const peer = peerAddress(args.target as string | undefined);
      const from = peer ? senderRef(args.from as string | undefined) : undefined;
      if (peer) inboxOnly(args.delivery as string | undefined);
      // To another of the owner's nodes: end to end (inbox delivery), else through the tunnel.
      const own = peer || (args.delivery !== undefined && args.delivery !== "inbox") ? undefined : ownNodeAddress(args.target as string | undefined);
      const ownFrom = own ? senderRef(args.from as string | undefined) : undefined;
      if (own) r = await endToEnd(() => call({ type: "PeerMsg", kind: "request", to: `node:${own.node}`, session: own.session, body: String(args.body ?? ""), ...(ownFrom !== undefined ? { from: ownFrom } : {}), timeout_s: timeout }, "MsgRequestResult"));
      if (r) {
        /* sent end to end */
      } else if (peer) r = await call({ type: "PeerMsg", kind: "request", to: peer.handle, session: peer.session, body: String(args.body ?? ""), ...(from !== undefined ? { from } : {}), timeout_s: timeout }, "MsgRequestResult");
      else r = await call({ type: "MsgRequest", to: sessionRef(args.target as string, "target"), body: String(args.body ?? ""), ...optionalFrom(args.from as string | undefined), delivery: delivery(args.delivery as string | undefined), timeout_s: timeout }, "MsgRequestResult");
    } finally {
      clearInterval(tick);
      bar.done();
    }
    if (args.json) printJson({ request: r.request, outcome: r.outcome, reply: r.reply ?? null });
    else if (r.reply) out(`[reply from ${who(r.reply.from)}] ${r.reply.body}\n`);
    if (r.outcome === "replied") return;
    if (!args.json) err(r.outcome === "timeout" ? `error: no reply to ${r.request.id} within ${timeout}s\n` : `error: ${args.target} ended before replying to ${r.request.id}\n`);
    throw new ExitWith(r.outcome === "timeout" ? EXIT.timeout : EXIT.error);
  },
});
