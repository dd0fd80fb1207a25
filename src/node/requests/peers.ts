/** Identity and peers: cw id, cw peer …, and messages to a peer's sessions. */
import { b64u, shortFingerprint } from "../../identity";
import type { RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";

export function idShow(req: RequestOf<"IdShow">, conn: Connection, ctx: NodeContext) {
  const p = ctx.peers;
  const face = (fp: string, f: { nickname: string; emoji: string; emoji_name: string }) => ({ fingerprint: fp, short: shortFingerprint(fp), ...f });
  const session = req.session !== undefined ? ctx.sessions.get(req.session) : undefined;
  const sk = session ? p.me.session(session.id) : undefined;
  conn.reply({
    type: "IdInfo",
    ...face(p.me.fingerprint, p.me.face),
    ed25519: b64u(p.me.ed25519),
    x25519: b64u(p.me.x25519),
    handle: p.handle(),
    relay: p.deps.relay()?.url ?? null,
    ...(session && sk ? { session: { id: session.id, ...face(sk.fingerprint, sk.face) } } : {}),
  });
  conn.end();
}

export async function idClaim(req: RequestOf<"IdClaim">, conn: Connection, ctx: NodeContext) {
  await ctx.peers.claim(req.name);
  idShow({ type: "IdShow" }, conn, ctx);
}

export async function peerAdd(req: RequestOf<"PeerAdd">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "PeerDone", ...(await ctx.peers.add(req.handle)) });
  conn.end();
}

export function peerList(req: RequestOf<"PeerList">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "PeerListResult", ...ctx.peers.list(req.pending) });
  conn.end();
}

export async function peerAccept(req: RequestOf<"PeerAccept">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "PeerDone", peer: await ctx.peers.accept(req.handle), action: "paired" });
  conn.end();
}

export function peerReject(req: RequestOf<"PeerReject">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "PeerDone", peer: ctx.peers.reject(req.handle), action: "rejected" });
  conn.end();
}

export async function peerRemove(req: RequestOf<"PeerRemove">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "PeerDone", peer: await ctx.peers.remove(req.handle), action: "removed" });
  conn.end();
}

/** A message is answered once the peer's relay stored it; a request, when the peer replies. */
export async function peerMsg(req: RequestOf<"PeerMsg">, conn: Connection, ctx: NodeContext) {
  if (req.kind === "msg") {
    conn.reply({ type: "MsgSent", message: await ctx.peers.message(req) });
    conn.end();
    return;
  }
  const { request, result, cancel } = await ctx.peers.request(req);
  conn.onClose(cancel);
  const o = await result;
  const status = o.outcome === "replied" ? "replied" : o.outcome === "timeout" ? "expired" : "failed";
  const reply =
    o.outcome === "replied"
      ? { id: `${request.id}_reply`, kind: "reply" as const, from: { id: o.from?.id ?? 0, ...(o.from?.name ? { name: o.from.name } : {}), node: req.to.replace(/^node:/, "") }, to: request.from, body: o.body ?? "", created_at: new Date().toISOString(), read: false, request_id: request.id }
      : undefined;
  if (o.outcome === "undeliverable") ctx.log(`peer: request ${request.id} to ${req.to} was not delivered: ${o.reason ?? "no reason given"}`);
  conn.reply({ type: "MsgRequestResult", request: { ...request, status }, outcome: o.outcome === "undeliverable" ? "target_ended" : o.outcome, ...(reply ? { reply } : {}) });
  conn.end();
}

export async function peerBroadcast(req: RequestOf<"PeerBroadcast">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "PeerBroadcastSent", ...(await ctx.peers.broadcast(req)) });
  conn.end();
}
