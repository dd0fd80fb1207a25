import { z } from "zod";
import { SessionInfo } from "../../protocol";
import { session, tags } from "../fields";
import { sessionLine } from "../format";
import { call, stream } from "../node";
import { defineTool, keepEnd, seconds, ToolError } from "../tool";

const MAX_BYTES = 256 * 1024;

export default defineTool({
  name: "codewire_watch_session",
  title: "Watch session output",
  description: [
    "Follow a session's output (or that of every session with a tag) for a bounded time: recent output first, then new output as it arrives. Stops when the watched sessions end, when the output matches `until`, or after timeout_s.",
    'Use it to see progress of a running agent or build, or to wait for a line such as a server\'s "listening on" (until: "listening on"). To wait for sessions to finish use codewire_wait_for; for a one-off look use codewire_read_session_output.',
    "Returns the collected output as plain text (with tags, each line is prefixed [id] or [name]), why the watch ended (exited, matched, timeout), and the sessions' status. Output beyond max_bytes is cut from the start and flagged truncated.",
  ].join("\n"),
  input: {
    session: session.optional(),
    tags: tags.optional(),
    timeout_s: seconds("Stop watching after this many seconds.", 10, 300),
    until: z.string().min(1).max(500).optional().describe("Stop as soon as the output (plain text) matches this regular expression. With history, recent output counts too."),
    tail_lines: z.number().int().min(1).max(1000).default(20).describe("Lines of recent output to start with. Default 20."),
    history: z.boolean().default(true).describe("Start with recent output (default); false: only output from now on."),
    max_bytes: z.number().int().min(256).max(MAX_BYTES).default(32 * 1024).describe(`Byte budget for the returned text; the end is kept. Default 32768, at most ${MAX_BYTES}.`),
  },
  output: {
    ended: z.enum(["exited", "matched", "timeout", "cancelled"]),
    output: z.string(),
    truncated: z.boolean(),
    match: z.string().optional(),
    sessions: z.array(SessionInfo),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(a, ctx) {
    if ((a.session === undefined) === (a.tags === undefined)) throw new ToolError("watch one session or sessions by tags: give exactly one of session and tags", '{"session": 3} or {"tags": ["worker"]}');
    let until: RegExp | undefined;
    try {
      until = a.until ? new RegExp(a.until, "m") : undefined;
    } catch (e) {
      throw new ToolError(`until is not a valid regular expression: ${(e as Error).message}`);
    }
    const labelled = a.tags !== undefined;
    const started = Date.now();
    // Text per session: the node sends whole lines rendered by a terminal model (plain: true).
    const texts = new Map<number, { label: string; text: string }>();
    let match: string | undefined;
    let dropped = false;
    let lastProgress = 0;
    const render = () =>
      [...texts.values()]
        .map(({ label, text }) => (labelled ? text.split("\n").slice(0, -1).map((l) => `[${label}] ${l}`).join("\n") : text))
        .join(labelled ? "\n" : "");
    let endedBy: "exited" | "timeout" | undefined;
    const end = await stream(
      {
        type: "WatchSession",
        ...(a.session !== undefined ? { id: a.session } : { tags: a.tags }),
        history: a.history,
        tail_lines: a.tail_lines,
        timeout_s: a.timeout_s,
        plain: true,
      },
      ctx,
      a.timeout_s * 1000 + 2000,
      (_f, r) => {
        if (r?.type === "StreamEnd") {
          endedBy = r.reason === "timeout" ? "timeout" : "exited";
          return true;
        }
        if (r?.type !== "WatchUpdate" || r.output === undefined) return false;
        const entry = texts.get(r.session_id) ?? { label: r.session_name ?? String(r.session_id), text: "" };
        // Bound memory: only the end of a chatty session's output can be returned anyway.
        entry.text += r.output;
        if (entry.text.length > a.max_bytes * 8) {
          // Whole lines only: cut after a newline.
          const cut = entry.text.indexOf("\n", entry.text.length - a.max_bytes * 8);
          entry.text = entry.text.slice(cut + 1);
          dropped = true;
        }
        texts.set(r.session_id, entry);
        // Look only at the newest lines (plus some before them, for matches across updates):
        // re-reading everything on every update would be quadratic.
        const recent = entry.text.slice(-(r.output.length + 4096));
        const now = Date.now();
        if (now - lastProgress > 500) {
          lastProgress = now;
          const lastLine = recent.trimEnd().split("\n").at(-1) ?? "";
          ctx.progress((now - started) / 1000, a.timeout_s, `${labelled ? `[${entry.label}] ` : ""}${lastLine.slice(0, 200)}`);
        }
        const m = until?.exec(recent);
        if (m) {
          match = m[0];
          return true;
        }
        return false;
      },
    );
    const ended: "exited" | "matched" | "timeout" | "cancelled" = match !== undefined ? "matched" : end === "cancelled" ? "cancelled" : (endedBy ?? "timeout");
    const collected = render();
    const { sessions: all } = await call({ type: "ListSessions", ...(a.tags ? { tags: a.tags } : {}) }, "SessionList");
    const sessions = a.tags ? all : all.filter((s) => s.id === a.session || s.name === a.session || String(s.id) === String(a.session)).slice(-1);
    const kept = keepEnd(collected, a.max_bytes);
    const truncated = kept.cut || dropped;
    const why = { exited: "the session(s) ended", matched: `output matched ${JSON.stringify(a.until)}`, timeout: `timed out after ${a.timeout_s}s`, cancelled: "cancelled" }[ended];
    const text = [
      `Watch ended: ${why}.${truncated ? ` Output truncated to the last ${a.max_bytes} bytes.` : ""}`,
      kept.text.length ? kept.text : "(no output)",
      "---",
      ...sessions.map(sessionLine),
    ].join("\n");
    return { text, data: { ended, output: kept.text, truncated, ...(match !== undefined ? { match } : {}), sessions } };
  },
});
