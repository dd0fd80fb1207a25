/**
 * WatchSession: follow one session, or every session with a tag, as text updates labelled by
 * session, until the sessions end or the timeout passes.
 */
import { ProtocolError, type RequestOf } from "../../protocol";
import type { Connection } from "../connection";
import type { NodeContext } from "../context";
import type { Session } from "../session";
import { TextFeed } from "../screen/text-feed";
import { follow } from "../stream";

const DEFAULT_TAIL_LINES = 20;

export function watch(req: RequestOf<"WatchSession">, conn: Connection, ctx: NodeContext) {
  let targets: Session[];
  if (req.id !== undefined) targets = [ctx.sessions.get(req.id)];
  else if (req.tags?.length) targets = ctx.sessions.byTags(req.tags);
  else throw new ProtocolError("bad_request", "watch needs a session id or a tag", "cw watch <id> or cw watch --tag <tag>");
  if (targets.length === 0) throw new ProtocolError("not_found", `no session has tag ${req.tags!.join(" or ")}`, "cw list shows sessions and their tags");

  let timer: ReturnType<typeof setTimeout> | undefined;
  let open = targets.length;
  const finish = (reason: "exited" | "timeout") => {
    if (conn.closed) return;
    if (timer) clearTimeout(timer);
    conn.reply({ type: "StreamEnd", reason, ...(targets.length === 1 ? { session: targets[0]!.info() } : {}) });
    conn.end();
  };
  if (req.timeout_s) timer = setTimeout(() => finish("timeout"), req.timeout_s * 1000);
  conn.onClose(() => timer && clearTimeout(timer));

  for (const s of targets) {
    const label = s.name ? { session_name: s.name } : {};
    const update = (output: string) => conn.reply({ type: "WatchUpdate", session_id: s.id, ...label, output });
    // Plain: whole lines of text out of a terminal model fed the same bytes (text-feed.ts says
    // when a line counts as done). Bytes: as the program wrote them, for a client that writes
    // them out as they are (bytes that are not UTF-8 survive). Else text decoded as it comes.
    let deliver: (b: Uint8Array) => void;
    let flush = async () => {};
    if (req.plain) {
      const feed = new TextFeed(ctx.screens, s, (lines) => update(lines.map((l) => `${l}\n`).join("")));
      conn.onClose(() => feed.close());
      deliver = (b) => feed.push(b);
      flush = () => feed.finish();
    } else if (req.bytes) {
      deliver = (b) => conn.reply({ type: "WatchUpdate", session_id: s.id, ...label, output_b64: Buffer.from(b).toString("base64") });
    } else {
      const decoder = new TextDecoder();
      deliver = (b) => {
        const output = decoder.decode(b, { stream: true });
        if (output) update(output);
      };
    }
    const from = !req.history ? s.offset : s.log.offsetOfLastLines(req.tail_lines ?? DEFAULT_TAIL_LINES);
    follow(conn, s, from, { deliver }, () => {
      void flush().then(() => {
        if (conn.closed) return;
        conn.reply({ type: "WatchUpdate", session_id: s.id, ...label, status: s.info() });
        if (--open === 0) finish("exited");
      });
    });
  }
}
