/** Kill, KillAll, KillByTags: signal the programs and answer once they have exited. */
import { ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import type { Session } from "../session";

function killAndReport(targets: Session[], signal: NodeJS.Signals, conn: Connection, reply: (ids: number[]) => void) {
  const running = targets.filter((s) => s.running);
  const ids = running.map((s) => s.id);
  let left = running.length;
  if (left === 0) {
    reply(ids);
    return;
  }
  for (const s of running) {
    s.onExit(() => {
      if (--left === 0) reply(ids);
    });
    s.kill(signal);
  }
}

export function kill(req: RequestOf<"Kill">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (!s.running) throw new ProtocolError("not_running", `session ${s.id} is not running (${s.record.status})`);
  killAndReport([s], req.signal, conn, (ids) => {
    conn.reply({ type: "Killed", ids });
    conn.end();
  });
}

export function killAll(_req: RequestOf<"KillAll">, conn: Connection, ctx: NodeContext) {
  killAndReport(ctx.sessions.running(), "SIGTERM", conn, (ids) => {
    conn.reply({ type: "KilledAll", ids });
    conn.end();
  });
}

export function killByTags(req: RequestOf<"KillByTags">, conn: Connection, ctx: NodeContext) {
  killAndReport(ctx.sessions.byTags(req.tags), "SIGTERM", conn, (ids) => {
    conn.reply({ type: "Killed", ids });
    conn.end();
  });
}
