/**
 * The screen worker's text questions: lines of a live session's screen, and line streams for
 * the views that replay a log (see line-stream.ts). Kept apart from worker.ts, which paints.
 */
import type { Terminal } from "@xterm/headless";
import { LineStream } from "./line-stream";
import type { FromScreen, ToScreen } from "./messages";
import { lastLines } from "./text";

const streams = new Map<number, LineStream>();

type TextMessage = Extract<ToScreen, { type: "lines" | "stream-open" | "stream-feed" | "stream-close" }>;

/** Handles `m` if it is a text message; false if it is not one. */
export function handleText(m: ToScreen, live: (id: number) => { term: Terminal; fed: number } | undefined, post: (m: FromScreen) => void): m is TextMessage {
  switch (m.type) {
    case "lines": {
      const s = live(m.id);
      if (!s) return true;
      const at = s.fed;
      // Once everything fed so far is parsed.
      s.term.write("", () => {
        const buf = s.term.buffer.active;
        const full = buf.length >= s.term.rows + (s.term.options.scrollback ?? 0);
        post({ type: "lines", id: m.id, req: m.req, lines: lastLines(buf, m.count), full, offset: at });
      });
      return true;
    }
    case "stream-open":
      streams.set(m.sid, new LineStream(m.cols, m.rows, m.pipes));
      return true;
    case "stream-feed": {
      const st = streams.get(m.sid);
      if (!st) post({ type: "stream-lines", sid: m.sid, req: m.req, lines: [] });
      else st.feed(m.bytes, m.settle, m.final ?? false, (lines) => post({ type: "stream-lines", sid: m.sid, req: m.req, lines }));
      return true;
    }
    case "stream-close":
      streams.get(m.sid)?.dispose();
      streams.delete(m.sid);
      return true;
  }
  return false;
}
