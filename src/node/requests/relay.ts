/** The node's relay connection: its state, and reconnecting after `cw setup`. */
import type { RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";

export function relayStatus(_req: RequestOf<"RelayStatus">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "RelayState", relay: ctx.relay.status() });
  conn.end();
}

export function relayConnect(_req: RequestOf<"RelayConnect">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "RelayState", relay: ctx.relay.reconnect(), local_kv_keys: ctx.kv.count() });
  conn.end();
}
