import { z } from "zod";
import { SessionInfo } from "../../protocol";
import { session } from "../fields";
import { who } from "../format";
import { call, stream } from "../node";
import { defineTool, keepEnd } from "../tool";

const MAX_LINES = 5000;
const MAX_BYTES = 256 * 1024;

export default defineTool({
  name: "codewire_read_session_output",
  title: "Read session output",
  description: [
    "Read what a session's program printed: the last tail_lines lines of its output, as plain text exactly as its terminal shows it (cursor moves and overwrites applied, colours dropped) unless raw is true. Works on running and finished sessions.",
    "Use it to check results after codewire_wait_for, or to see where a running agent or build is. For output as it arrives use codewire_watch_session.",
    "Set view to \"screen\" to get the running program's current screen rendered as text instead — best for full-screen programs (another agent's TUI, vim, htop), whose raw output is mostly cursor movement.",
    `Returns at most tail_lines lines and max_bytes bytes, the end of the output; truncated says whether there was more before it. To see more, call again with larger tail_lines (at most ${MAX_LINES}) or max_bytes (at most ${MAX_BYTES}).`,
  ].join("\n"),
  input: {
    session,
    tail_lines: z.number().int().min(1).max(MAX_LINES).default(200).describe(`How many of the last lines to return. Default 200, at most ${MAX_LINES}.`),
    max_bytes: z.number().int().min(256).max(MAX_BYTES).default(32 * 1024).describe(`Byte budget for the returned text; the end is kept. Default 32768, at most ${MAX_BYTES}.`),
    raw: z.boolean().default(false).describe("Return the bytes as the terminal got them, escape sequences included. Default false."),
    view: z.enum(["log", "screen"]).default("log").describe('"log" (default): the end of the output log. "screen": the current screen of a running session as plain text.'),
  },
  output: {
    session: SessionInfo,
    output: z.string(),
    truncated: z.boolean().describe("True when the session printed more than is returned here."),
    bytes: z.number().int(),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(a, ctx) {
    if (a.view === "screen") {
      const r = await call({ type: "GetScreen", id: a.session }, "ScreenText");
      const lines = r.lines.slice();
      while (lines.length && !lines.at(-1)!.trim()) lines.pop();
      const kept = keepEnd(lines.join("\n"), a.max_bytes);
      const bytes = Buffer.byteLength(kept.text);
      return {
        text: `screen of session ${who(r.session)} (${r.session.cols}x${r.session.rows}${r.alt ? ", full-screen program" : ""}):\n${kept.text}`,
        data: { session: r.session, output: kept.text, truncated: kept.cut, bytes },
      };
    }
    // The node sends only the last tail_lines lines (as text unless raw), but one line can be
    // huge (raw: progress bars redraw with \r): keep a rolling window so memory stays bounded.
    const rawCap = Math.max(a.max_bytes * 8, 1024 * 1024);
    const chunks: Uint8Array[] = [];
    let held = 0;
    let dropped = false;
    let info: SessionInfo | undefined;
    let more = false;
    await stream({ type: "Logs", id: a.session, tail_lines: a.tail_lines, plain: !a.raw }, ctx, 15_000, (f, r) => {
      if (f.kind === "data") {
        chunks.push(f.bytes);
        held += f.bytes.length;
        while (held - chunks[0]!.length >= rawCap) {
          held -= chunks.shift()!.length;
          dropped = true;
        }
        return false;
      }
      if (r?.type === "LogData") {
        info = r.session;
        more = a.raw ? r.from_offset > 0 : r.truncated;
      }
      if (r?.type === "StreamEnd") info = r.session ?? info;
      return false;
    });
    if (!info) throw new Error("the node ended the log stream before describing the session");
    let text = Buffer.concat(chunks).toString("utf8");
    const lines = text.split("\n");
    let cutLines = false;
    if (lines.length > a.tail_lines + 1) {
      text = lines.slice(-(a.tail_lines + 1)).join("\n");
      cutLines = true;
    }
    const kept = keepEnd(text, a.max_bytes);
    const truncated = kept.cut || dropped || cutLines || more;
    const bytes = Buffer.byteLength(kept.text);
    const head = `session ${who(info)} ${info.status}${info.exit_code !== null ? ` (exit ${info.exit_code})` : ""}; ${info.output_bytes} bytes of output in all`;
    const note = truncated
      ? `\n[cw: truncated — this is the end of the output (${bytes} bytes). For more, call again with a larger tail_lines (max ${MAX_LINES}) or max_bytes (max ${MAX_BYTES}); the whole log: \`cw logs ${info.id} --plain\`]`
      : "";
    return {
      text: `${head}\n${kept.text.trim().length ? kept.text.trimEnd() : "(no output yet)"}${note}`,
      data: { session: info, output: kept.text, truncated, bytes },
    };
  },
});
