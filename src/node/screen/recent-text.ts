/**
 * The last lines of a session's text (cw status, cw logs --plain --tail, the output summary,
 * MCP reads): from the live screen and scrollback while the session runs, else from the end of
 * its log replayed through a terminal of the session's size (line-stream.ts). The replay reads
 * only a tail region, bounded by REPLAY_MAX, so a huge log costs no more than a small one.
 */
import type { OutputLog } from "../output-log";
import type { Screens } from "./screens";

const REPLAY_MAX = 4 * 1024 * 1024;
/**
 * At least this much is replayed: a TUI redraws with relative cursor moves (up N rows, to column
 * N), which land right only once the terminal has seen enough of what came before.
 */
const REPLAY_MIN = 128 * 1024;
const CHUNK = 256 * 1024;

export interface TextSource {
  id: number;
  running: boolean;
  log: OutputLog;
  record: { cols: number; rows: number; terminal: boolean };
}

export async function recentLines(screens: Screens, s: TextSource, count: number): Promise<string[]> {
  if (s.running) {
    const live = await screens.lines(s.id, count);
    // The live model keeps `history_lines` of scrollback; asked for more, replay the log.
    if (live && (live.complete || live.lines.length >= count)) return live.lines;
  }
  return replayTail(screens, s, count);
}

/** Replays the log's end: from where its last lines begin (a few more than asked, for redraws). */
export async function replayTail(screens: Screens, s: TextSource, count: number): Promise<string[]> {
  const end = s.log.end;
  let from = Math.max(s.log.start, Math.min(s.log.offsetOfLastLines(count * 2 + s.record.rows), end - REPLAY_MIN));
  if (end - from > REPLAY_MAX) from = end - REPLAY_MAX;
  // Starting inside a line would show its end as a line of its own: leave that line out.
  let midLine = from > s.log.start && s.log.read(from - 1, from)[0] !== 0x0a;
  const stream = screens.openStream(s.record.cols, s.record.rows, !s.record.terminal);
  let lines: string[] = [];
  try {
    let at = from;
    do {
      const { offset, bytes } = s.log.readAt(at, Math.min(end, at + CHUNK));
      at = offset + bytes.length;
      const last = at >= end || bytes.length === 0;
      lines.push(...(await stream.feed(bytes, last, last)));
      if (midLine && lines.length) {
        lines.shift();
        midLine = false;
      }
      if (lines.length > count * 2) lines = lines.slice(-count);
      if (last) break;
    } while (at < end);
  } finally {
    stream.close();
  }
  return lines.slice(-count);
}
