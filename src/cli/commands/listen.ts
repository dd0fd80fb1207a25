import { open } from "../../client/node-client";
import type { Message } from "../../protocol";
import { defineCwCommand } from "../define";
import { formatMessage } from "../messaging";
import { dim, err, out } from "../output";
import { closeOnInterrupt, INTERRUPTED, streamLost } from "../interrupt";
import { sessionRef } from "../target";

export default defineCwCommand({
  name: "listen",
  description: "Stream all message traffic on the node as it happens: direct messages, requests and replies. Runs until interrupted (Ctrl+C: exit 130; exit 1 if the node stops).",
  usage: "cw listen [--session <session>] [--json]",
  examples: ["cw listen", "cw listen --session planner", "cw listen --json"],
  args: {
    session: { type: "string", alias: "s", description: "Only messages from or to this session" },
    json: { type: "boolean", description: "One JSON event per line" },
  },
  async run({ args }) {
    const conn = await open({ type: "MsgListen", ...(args.session !== undefined ? { session: sessionRef(args.session as string) } : {}) });
    const stop = closeOnInterrupt(conn);
    for (;;) {
      const m = await conn.nextReply();
      if (!m) return stop.interrupted ? INTERRUPTED : streamLost("no more messages");
      if (m.type === "MsgListenAck") err(dim("[cw] listening; Ctrl+C to stop\n", 2));
      if (m.type !== "Event") continue;
      if (args.json) out(`${JSON.stringify(m.event)}\n`);
      else out(`${formatMessage(m.event.data.message as Message)}\n`);
    }
  },
});
