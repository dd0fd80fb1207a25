/** Subscribe: a live stream of session events, filtered by session, tag and event type. */
import type { RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";

export function subscribe(req: RequestOf<"Subscribe">, conn: Connection, ctx: NodeContext) {
  const sessionId = req.session !== undefined ? ctx.sessions.get(req.session).id : undefined;
  const off = ctx.events.subscribe({ sessionId, tags: req.tags, types: req.events }, (event) => conn.reply({ type: "Event", event }));
  conn.onClose(off);
  conn.onFrame = () => {}; // Unsubscribe is closing the connection
  conn.reply({ type: "SubscribeAck" });
}
