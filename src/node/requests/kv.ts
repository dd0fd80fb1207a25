/** The node-local key-value store. */
import type { RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";

export function kvSet(req: RequestOf<"KVSet">, conn: Connection, ctx: NodeContext) {
  ctx.kv.set(req.ns, req.key, req.value, req.ttl_s);
  conn.reply({ type: "KVSetOK" });
  conn.end();
}

export function kvGet(req: RequestOf<"KVGet">, conn: Connection, ctx: NodeContext) {
  const entry = ctx.kv.get(req.ns, req.key);
  conn.reply({ type: "KVGetResult", found: entry !== null, entry });
  conn.end();
}

export function kvDelete(req: RequestOf<"KVDelete">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "KVDeleteOK", deleted: ctx.kv.delete(req.ns, req.key) });
  conn.end();
}

export function kvList(req: RequestOf<"KVList">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "KVListResult", entries: ctx.kv.list(req.ns, req.prefix) });
  conn.end();
}
