import { checkReply } from "../../client/errors";
import { open } from "../../client/node-client";
import type { EventType, Reply } from "../../protocol";
import { EVENT_TYPES } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { cyan, dim, err, out } from "../output";
import { closeOnInterrupt, INTERRUPTED, streamLost } from "../interrupt";
import { onNode, sessionRef } from "../target";

export default defineCwCommand({
  name: "subscribe",
  description: `Stream session events as they happen, until interrupted (Ctrl+C: exit 130; exit 1 if the node stops). Event types: ${EVENT_TYPES.join(", ")}.`,
  usage: "cw subscribe [options]",
  examples: ["cw subscribe --tag worker", "cw subscribe --event session.status", "cw subscribe --session 3 --json", "cw subscribe dev-1 --tag build    # events of node dev-1, through the relay"],
  args: {
    node: { type: "positional", required: false, description: "Events of another node, through this machine's relay" },
    session: { type: "string", alias: "s", description: "Only events of this session (id or name)" },
    tag: { type: "string", alias: "t", description: "Only events of sessions with this tag (repeatable)" },
    event: { type: "string", alias: "e", description: "Only this event type (repeatable)", valueHint: "type" },
    json: { type: "boolean", description: "One JSON event per line" },
  },
  async run({ args, all }) {
    const events = all("event", "e");
    for (const e of events) if (!EVENT_TYPES.includes(e as EventType)) throw new UsageError(`unknown event type ${JSON.stringify(e)}`, `use one of: ${EVENT_TYPES.join(", ")}`);
    const tags = all("tag", "t");
    if (args.node !== undefined) onNode(args.node as string);
    const conn = await open({
      type: "Subscribe",
      ...(args.session !== undefined ? { session: sessionRef(args.session as string) } : {}),
      ...(tags.length ? { tags } : {}),
      ...(events.length ? { events: events as EventType[] } : {}),
    });
    const stop = closeOnInterrupt(conn);
    for (;;) {
      const m = await conn.nextReply();
      if (!m) return stop.interrupted ? INTERRUPTED : streamLost("no more events");
      if (m.type === "SubscribeAck") {
        err(dim("[cw] subscribed; Ctrl+C to stop\n", 2));
        continue;
      }
      if (m.type !== "Event") continue;
      const e = checkReply(m as Reply) as Extract<Reply, { type: "Event" }>;
      if (args.json) out(`${JSON.stringify(e.event)}\n`);
      else {
        const who = e.event.session_name ? `${e.event.session_id} (${e.event.session_name})` : String(e.event.session_id);
        out(`${dim(e.event.at)} ${cyan(e.event.type)} session ${who} ${JSON.stringify(e.event.data)}\n`);
      }
    }
  },
});
