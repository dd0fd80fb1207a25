/** HookEvent: an agent's hook fired in a session (`cw hook`); the session's agent keeper decides. */
import { ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";

export function hookEvent(req: RequestOf<"HookEvent">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (!s.running) throw new ProtocolError("not_running", `session ${s.id} is not running (${s.record.status})`);
  conn.reply({ type: "HookAccepted", agent_state: s.agentHook(req.agent, req.event, req.fields) });
  conn.end();
}
