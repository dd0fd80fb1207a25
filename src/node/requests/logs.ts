/** Logs: the session's output from the log (all of it that is kept, or its last lines), optionally followed. */
import type { RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import { recentLines } from "../screen/recent-text";
import { TextFeed } from "../screen/text-feed";
import type { Session } from "../session";
import { follow, sendRange } from "../stream";

export async function logs(req: RequestOf<"Logs">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (req.plain) return plainLogs(req, conn, ctx, s);
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

const lineBytes = (lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(""));
const CHUNK = 256 * 1024;

/**
 * The log as text (session text: screen/text.ts). The last N lines come from the terminal model
 * at once; the whole log (or a followed one) is replayed through a line stream at the reader's
 * pace, chunk by chunk, and then followed live.
 */
async function plainLogs(req: RequestOf<"Logs">, conn: Connection, ctx: NodeContext, s: Session) {
  const end = () => {
    conn.reply({ type: "StreamEnd", reason: s.running ? "done" : "exited", session: s.info() });
    conn.end();
  };
  if (req.tail_lines && !(req.follow && s.running)) {
    const lines = await recentLines(ctx.screens, s, req.tail_lines);
    conn.reply({ type: "LogData", session: s.info(), from_offset: s.log.start, truncated: lines.length >= req.tail_lines });
    if (lines.length) conn.data(lineBytes(lines));
    return end();
  }
  const from = req.tail_lines ? s.log.offsetOfLastLines(req.tail_lines) : s.log.start;
  conn.reply({ type: "LogData", session: s.info(), from_offset: from, truncated: from > 0 });
  // A log whose start was rotated away begins inside a line: that fragment is left out.
  let dropFirst = from > 0 && s.log.read(from - 1, from)[0] !== 0x0a;
  const feed = new TextFeed(ctx.screens, s, (lines) => {
    if (dropFirst) {
      lines = lines.slice(1);
      dropFirst = false;
    }
    if (lines.length) conn.data(lineBytes(lines));
  });
  conn.onClose(() => feed.close());
  // History first, at the pace the reader takes it.
  let at = from;
  const upTo = s.offset;
  while (at < upTo && !conn.closed) {
    if (conn.pendingBytes > CHUNK * 4) await new Promise<void>((r) => { const stop = conn.onDrain(() => { stop(); r(); }); });
    const { offset, bytes } = s.log.readAt(at, Math.min(upTo, at + CHUNK));
    if (bytes.length === 0) break;
    at = offset + bytes.length;
    await feed.write(bytes);
  }
  if (conn.closed) return;
  if (req.follow && s.running) {
    follow(conn, s, at, { deliver: (b) => feed.push(b) }, () => void feed.finish().then(end));
    return;
  }
  await feed.finish();
  end();
}
