/**
 * Kill, KillAll, KillByTags: end everything the sessions started (Sessions.end) and answer once
 * it is gone. That includes the programs of lost sessions that outlived their node
 * (Session.orphanPid), and what programs that ended left running (Session.survivors).
 */
import { ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import type { Session } from "../session";
import type { Ending } from "../session-processes";

/** Ends what the targets run; resolves with their ids once all is gone. */
async function killPrograms(targets: Session[], signal: NodeJS.Signals | undefined, ctx: NodeContext): Promise<number[]> {
  const live = targets.filter((s) => ctx.sessions.killable(s));
  const how: Ending = signal ?? "hangup";
  await Promise.all(live.map((s) => ctx.sessions.end(s, how)));
  return live.map((s) => s.id);
}

export async function kill(req: RequestOf<"Kill">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (!ctx.sessions.killable(s)) throw new ProtocolError("not_running", `session ${s.id} is not running (${s.record.status})`);
  conn.reply({ type: "Killed", ids: await killPrograms([s], req.signal, ctx) });
  conn.end();
}

export async function killAll(req: RequestOf<"KillAll">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "KilledAll", ids: await killPrograms(ctx.sessions.all(), req.signal, ctx) });
  conn.end();
}

export async function killByTags(req: RequestOf<"KillByTags">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "Killed", ids: await killPrograms(ctx.sessions.byTags(req.tags), req.signal, ctx) });
  conn.end();
}
