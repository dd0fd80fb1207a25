/**
 * Attach: paint the session's current screen, then stream its output live while forwarding the
 * client's keystrokes and size. Nothing is lost or doubled between the two: the screen snapshot
 * reflects the output up to a known offset and the live stream resumes from exactly there.
 */
import { AttachControl, ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import { follow } from "../stream";
import type { Viewer } from "../viewer";

/** Resets the client's screen before the snapshot paints it. */
const CLEAR = "\x1b[0m\x1b[H\x1b[2J";
/**
 * A terminal further behind than this is repainted from the screen instead of replaying the
 * backlog (as tmux redraws rather than replays): the user sees the current screen at once.
 */
const ATTACH_LAG_LIMIT = 4 * 1024 * 1024;
const INPUT_EVENT_EVERY_MS = 1000;

export async function attach(req: RequestOf<"Attach">, conn: Connection, ctx: NodeContext) {
  const s = ctx.sessions.get(req.id);
  if (!s.running) {
    throw new ProtocolError("not_running", `session ${s.id} has ended (${s.record.status})`, `cw logs ${s.id} shows what it printed`);
  }
  s.resize(req.cols, req.rows);
  s.attached++;
  ctx.events.emit(s.source, "session.attached", { attached_count: s.attached });

  let inputBytes = 0;
  let inputTimer: ReturnType<typeof setTimeout> | undefined;
  const flushInput = () => {
    inputTimer = undefined;
    if (inputBytes) ctx.events.emit(s.source, "session.input", { bytes: inputBytes, source: "attach" });
    inputBytes = 0;
  };

  let ended = false;
  const detach = () => {
    if (ended) return;
    ended = true;
    s.attached--;
    if (inputTimer) clearTimeout(inputTimer);
    flushInput();
    ctx.events.emit(s.source, "session.detached", { attached_count: s.attached });
  };
  conn.onClose(detach);

  conn.onFrame = (f) => {
    if (f.kind === "data") {
      s.write(f.bytes);
      inputBytes += f.bytes.length;
      inputTimer ??= setTimeout(flushInput, INPUT_EVENT_EVERY_MS);
      return;
    }
    const m = AttachControl.safeParse(f.message);
    if (!m.success) return; // unknown control messages from newer clients are ignored
    if (m.data.type === "Resize") s.resize(m.data.cols, m.data.rows);
    else if (m.data.type === "EndInput") s.endInput();
    else {
      conn.reply({ type: "AttachEnded", reason: "detached", session: s.info() });
      detach();
      conn.end();
    }
  };

  conn.reply({ type: "Attached", session: s.info() });
  let from = s.offset;
  if (req.history) {
    const snap = await ctx.screens.snapshot(s.id, ctx.config.historyLines);
    if (conn.closed) return;
    if (snap) {
      conn.data(Buffer.from(CLEAR + snap.data, "utf8"));
      from = snap.offset;
    }
  }
  const repaint = async (v: Viewer) => {
    const snap = await ctx.screens.snapshot(s.id, 0);
    if (conn.closed) return;
    if (snap) {
      conn.data(Buffer.from(CLEAR + snap.data, "utf8"));
      v.jumpTo(snap.offset);
    } else {
      // No screen (the program just ended): its last screenful of output stands in for it.
      conn.data(Buffer.from(CLEAR, "utf8"));
      v.jumpTo(s.log.offsetOfLastLines(s.record.rows));
    }
  };
  follow(conn, s, from, { lagLimit: ATTACH_LAG_LIMIT, onLag: (v) => void repaint(v) }, () => {
    if (ended) return;
    conn.reply({ type: "AttachEnded", reason: s.record.status === "killed" ? "killed" : "exited", session: s.info() });
    detach();
    conn.end();
  });
}
