/**
 * Kill, KillAll, KillByTags: signal the programs and answer once they have exited. That includes
 * the programs of lost sessions that outlived their node (Session.orphanPid).
 */
import { ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import type { Session } from "../session";

/** Ends the targets' programs that still run; resolves with their ids once all are gone. */
async function killPrograms(targets: Session[], signal: NodeJS.Signals, ctx: NodeContext): Promise<number[]> {
  const live = targets.filter((s) => s.running || s.orphanPid !== null);
  await Promise.all(
    live.map((s) => {
      if (!s.running) return ctx.sessions.killOrphan(s, signal);
      const gone = new Promise<void>((r) => s.onExit(r));
      s.kill(signal);
      return gone;
    }),
  );
  return live.map((s) => s.id);
}

export async function kill(req: RequestOf<"Kill">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (!s.running && s.orphanPid === null) throw new ProtocolError("not_running", `session ${s.id} is not running (${s.record.status})`);
  conn.reply({ type: "Killed", ids: await killPrograms([s], req.signal, ctx) });
  conn.end();
}

export async function killAll(_req: RequestOf<"KillAll">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "KilledAll", ids: await killPrograms(ctx.sessions.all(), "SIGTERM", ctx) });
  conn.end();
}

export async function killByTags(req: RequestOf<"KillByTags">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "Killed", ids: await killPrograms(ctx.sessions.byTags(req.tags), "SIGTERM", ctx) });
  conn.end();
}
