/**
 * `cw kv`: the node's own store (kv.db), or the relay's shared one once this machine has a relay
 * (`cw setup`), so that sessions on every node see the same keys. A relay that cannot be reached
 * is an error, never a silent fallback to the local store: that would split the data in two.
 * `local` asks for this node's own store even then; every reply says which store answered.
 */
import { NodeError, NodeUnavailableError } from "../../client/errors";
import type { RelayClient } from "../../client/relay-client";
import { ERROR_CODES, type ErrorCode, ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";

/** The relay's error codes that have a nearer one in the node's protocol than bad_request. */
const RELAY_CODES: Record<string, ErrorCode> = { over_quota: "too_large", timeout: "timeout" };

/** Runs `op` against the relay, turning its failures into errors the client understands. */
async function viaRelay<T>(api: RelayClient, op: (api: RelayClient) => Promise<T>): Promise<T> {
  try {
    return await op(api);
  } catch (e) {
    if (e instanceof NodeUnavailableError) throw new ProtocolError("unavailable", e.message, e.hint);
    if (e instanceof NodeError) throw new ProtocolError((ERROR_CODES as readonly string[]).includes(e.code) ? (e.code as ErrorCode) : (RELAY_CODES[e.code] ?? "bad_request"), e.message, e.hint);
    throw e;
  }
}

/** The relay's API when the relay's store answers this request; undefined for the local store. */
function relayFor(req: { local: boolean }, ctx: NodeContext): RelayClient | undefined {
  return req.local ? undefined : (ctx.relay.api() ?? undefined);
}

const storeName = (api: RelayClient | undefined) => (api ? "relay" : "local") as "relay" | "local";

/** KVSetOK says `stored`: false only when if_absent found the key already set (a lock held). */
export async function kvSet(req: RequestOf<"KVSet">, conn: Connection, ctx: NodeContext) {
  const api = relayFor(req, ctx);
  const opts = { ifAbsent: req.if_absent === true };
  const stored = api ? await viaRelay(api, (r) => r.kvSet(req.ns, req.key, req.value, req.ttl_s, opts)) : ctx.kv.set(req.ns, req.key, req.value, req.ttl_s, opts).stored;
  conn.reply({ type: "KVSetOK", stored, store: storeName(api) });
  conn.end();
}

export async function kvGet(req: RequestOf<"KVGet">, conn: Connection, ctx: NodeContext) {
  const api = relayFor(req, ctx);
  const entry = api ? await viaRelay(api, (r) => r.kvGet(req.ns, req.key)) : ctx.kv.get(req.ns, req.key);
  conn.reply({ type: "KVGetResult", found: entry !== null, entry, store: storeName(api) });
  conn.end();
}

export async function kvDelete(req: RequestOf<"KVDelete">, conn: Connection, ctx: NodeContext) {
  const api = relayFor(req, ctx);
  const opts = req.if_value !== undefined ? { ifValue: req.if_value } : {};
  const deleted = api ? await viaRelay(api, (r) => r.kvDelete(req.ns, req.key, opts)) : ctx.kv.delete(req.ns, req.key, opts);
  conn.reply({ type: "KVDeleteOK", deleted, store: storeName(api) });
  conn.end();
}

export async function kvList(req: RequestOf<"KVList">, conn: Connection, ctx: NodeContext) {
  const api = relayFor(req, ctx);
  const entries = api ? await viaRelay(api, (r) => r.kvList(req.ns, req.prefix)) : ctx.kv.list(req.ns, req.prefix);
  conn.reply({ type: "KVListResult", entries, store: storeName(api) });
  conn.end();
}
