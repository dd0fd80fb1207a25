/** Messaging requests: msg, broadcast, inbox, request, reply, listen. */
import type { RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";

const MESSAGE_EVENTS = ["direct.message", "message.request", "message.reply"];

export async function msgSend(req: RequestOf<"MsgSend">, conn: Connection, ctx: NodeContext) {
  const { message, typed } = await ctx.messaging.send(req.to, req.body, req.from, req.delivery, req.from_remote);
  conn.reply({ type: "MsgSent", message, ...(typed !== undefined ? { delivered_to_pty: typed } : {}) });
  conn.end();
}

export async function broadcast(req: RequestOf<"Broadcast">, conn: Connection, ctx: NodeContext) {
  const messages = await ctx.messaging.broadcast(req.tags, req.body, req.from, req.delivery, req.from_remote);
  conn.reply({ type: "BroadcastSent", messages });
  conn.end();
}

export function msgRead(req: RequestOf<"MsgRead">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.session);
  const { messages, unread } = ctx.messaging.store.inbox(s.id, req.tail, req.unread_only, req.mark_read);
  conn.reply({ type: "MsgReadResult", messages, unread });
  conn.end();
}

export async function msgRequest(req: RequestOf<"MsgRequest">, conn: Connection, ctx: NodeContext) {
  const { request, result, cancel } = await ctx.messaging.request(req.to, req.body, req.from, req.delivery, req.timeout_s, req.from_remote);
  conn.onClose(cancel);
  const o = await result;
  conn.reply({ type: "MsgRequestResult", request: ctx.messaging.store.get(request.id) ?? request, outcome: o.outcome, ...(o.outcome === "replied" ? { reply: o.reply } : {}) });
  conn.end();
}

export async function msgReply(req: RequestOf<"MsgReply">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "MsgReplySent", message: await ctx.messaging.reply(req.request_id, req.body, req.from) });
  conn.end();
}

export function msgListen(req: RequestOf<"MsgListen">, conn: Connection, ctx: NodeContext) {
  const only = req.session !== undefined ? ctx.sessions.get(req.session).id : undefined;
  const off = ctx.events.subscribe({ types: MESSAGE_EVENTS }, (event) => {
    const m = event.data.message as { from: { id: number } | null; to: { id: number } | null };
    if (only !== undefined && m.from?.id !== only && m.to?.id !== only) return;
    conn.reply({ type: "Event", event });
  });
  conn.onClose(off);
  conn.onFrame = () => {};
  conn.reply({ type: "MsgListenAck" });
}
