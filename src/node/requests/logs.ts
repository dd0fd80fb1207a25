/** Logs: the session's output from the log (all of it that is kept, or its last lines), optionally followed. */
import type { RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import { follow, sendRange } from "../stream";

export function logs(req: RequestOf<"Logs">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  const from = req.tail_lines ? s.log.offsetOfLastLines(req.tail_lines) : s.log.start;
  const end = () => {
    conn.reply({ type: "StreamEnd", reason: s.running ? "done" : "exited", session: s.info() });
    conn.end();
  };
  conn.reply({ type: "LogData", session: s.info(), from_offset: from, truncated: s.log.start > 0 && !req.tail_lines });
  if (req.follow && s.running) {
    follow(conn, s, from, {}, end);
    return;
  }
  sendRange(conn, s, from, s.offset, (b) => conn.data(b), end);
}
