/** Requests answered in one reply: ping, shutdown, list, launch, status. */
import { existsSync, statSync } from "node:fs";
import { ProtocolError, PROTOCOL_VERSION, type RequestOf } from "../../protocol";
import { VERSION } from "../../version";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import { workingDir } from "../launch-env";
import { sessionTable } from "../../protocol/session-table";
import { recentLines } from "../screen/recent-text";

export function ping(_req: RequestOf<"Ping">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "Pong", version: VERSION, protocol: PROTOCOL_VERSION, pid: process.pid, data_dir: ctx.paths.root, name: ctx.config.name });
  conn.end();
}

export function shutdown(_req: RequestOf<"Shutdown">, conn: Connection, ctx: NodeContext) {
  conn.reply({ type: "ShuttingDown" });
  conn.end();
  ctx.shutdown("cw stop");
}

export function listSessions(req: RequestOf<"ListSessions">, conn: Connection, ctx: NodeContext) {
  let list = ctx.sessions.all();
  if (req.status) list = list.filter((s) => s.record.status === req.status);
  if (req.tags?.length) list = list.filter((s) => req.tags!.some((t) => s.record.tags.includes(t)));
  if (req.table) conn.reply({ type: "SessionTable", text: list.length ? sessionTable(list.map((s) => s.tableRow()), { ...req.table, now: Date.now() }) : "", count: list.length });
  else conn.reply({ type: "SessionList", sessions: list.map((s) => s.info()) });
  conn.end();
}

export function launch(req: RequestOf<"Launch">, conn: Connection, ctx: NodeContext) {
  const dir = workingDir(req.working_dir);
  // Not the caller's usage but the node's filesystem: an error (exit 1), as a missing program is.
  if (!existsSync(dir)) throw new ProtocolError("spawn_failed", `working directory ${dir} does not exist on the node`, "pass an existing directory with --dir");
  if (!statSync(dir).isDirectory()) throw new ProtocolError("spawn_failed", `working directory ${dir} is not a directory`, "pass a directory with --dir, not a file");
  const s = ctx.sessions.launch(req);
  conn.reply({ type: "Launched", session: s.info() });
  conn.end();
}

export async function getStatus(req: RequestOf<"GetStatus">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  // The text a person would read on the session's terminal (screen/text.ts), not its bytes.
  const recent = req.recent_lines > 0 ? (await recentLines(ctx.screens, s, req.recent_lines)).join("\n") : "";
  conn.reply({ type: "SessionStatus", session: s.info(), recent_output: recent, log_path: s.log.path });
  conn.end();
}

export async function getScreen(req: RequestOf<"GetScreen">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (!s.running) throw new ProtocolError("not_running", `session ${s.id} has ended (${s.record.status}); its screen is gone`, `cw logs ${s.id} --tail 50 shows its last output`);
  const t = await ctx.screens.text(s.id);
  if (!t) throw new ProtocolError("timeout", "the screen did not answer in time", "try again; cw logs shows the raw output");
  conn.reply({ type: "ScreenText", session: s.info(), lines: t.lines, cursor: t.cursor, alt: t.alt });
  conn.end();
}
