import { checkReply } from "../../client/errors";
import { open } from "../../client/node-client";
import type { Reply } from "../../protocol";
import { describeStatus } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { EXIT, UsageError } from "../errors";
import { cyan, dim, err, out, printJson } from "../output";
import { closeOnInterrupt, INTERRUPTED, streamLost } from "../interrupt";
import { positiveNumber, sessionRef } from "../target";

/**
 * One shape for every --json line, as the README documents it: which session, then output (text),
 * status (the session, once it ended) or end (the last line: exited or timeout); the others null.
 */
function jsonLine(id: number | null, name: string | null, part: { output?: string | null; status?: unknown; end?: string }): string {
  return JSON.stringify({ session_id: id, session_name: name, output: part.output ?? null, status: part.status ?? null, end: part.end ?? null });
}

export default defineCwCommand({
  name: "watch",
  description: "Follow a session's output read-only, without taking over your terminal. With --tag, follows every session with that tag, each line labelled by its session. Ends when the sessions end (exit 0), at --timeout (exit 124) or on Ctrl+C (exit 130).",
  usage: "cw watch <id|name> | --tag <tag> [options]",
  examples: ["cw watch 1", "cw watch 1 --tail 50", "cw watch 1 --no-history", "cw watch --tag worker --timeout 60", "cw watch 2 --json"],
  args: {
    session: { type: "positional", required: false, description: "Session id or name" },
    tag: { type: "string", alias: "t", description: "Watch every session with this tag (repeatable)" },
    tail: { type: "string", alias: "n", description: "Start from the last N lines (default 20)", valueHint: "N" },
    history: { type: "boolean", default: true, description: "Show recent output first", negativeDescription: "Only new output" },
    timeout: { type: "string", description: "Stop after this many seconds (exit 124)", valueHint: "seconds" },
    json: { type: "boolean", description: "JSON lines, each {session_id, session_name, output, status, end}, output as whole lines of text as the terminal shows them; the last has end set" },
  },
  async run({ args, all }) {
    const tags = all("tag", "t");
    if ((args.session === undefined) === (tags.length === 0)) throw new UsageError("watch one session (id or name) or sessions with --tag", "cw watch 1 | cw watch --tag worker");
    const tail = positiveNumber(args.tail as string | undefined, "--tail");
    const timeout = positiveNumber(args.timeout as string | undefined, "--timeout");
    const labelled = tags.length > 0;
    const conn = await open({
      type: "WatchSession",
      // JSON lines are text from a terminal model; otherwise the program's bytes are written out
      // as they are (bytes that are not UTF-8 survive), with --tag in whole labelled lines.
      plain: Boolean(args.json),
      ...(args.session !== undefined ? { id: sessionRef(args.session as string) } : { tags }),
      history: args.history !== false,
      ...(tail ? { tail_lines: Math.floor(tail) } : {}),
      ...(timeout ? { timeout_s: timeout } : {}),
      bytes: !args.json,
    });
    const stop = closeOnInterrupt(conn);
    const partial = new Map<number, Buffer>();
    let timedOut = false;
    let ended = false;
    for (;;) {
      const f = await conn.next();
      if (!f || f.kind !== "control") {
        if (!f) break;
        continue;
      }
      const m = checkReply(f.message as Reply);
      if (m.type === "StreamEnd") {
        ended = true;
        timedOut = m.reason === "timeout";
        if (args.json) out(`${jsonLine(m.session?.id ?? null, m.session?.name ?? null, { end: m.reason })}\n`);
        else if (m.reason === "timeout") err(dim("[cw] watch timed out\n", 2));
        break;
      }
      if (m.type !== "WatchUpdate") continue;
      if (args.json) {
        out(`${jsonLine(m.session_id, m.session_name ?? null, { output: m.output ?? null, status: m.status ?? null })}\n`);
        continue;
      }
      const label = `[${m.session_name ?? m.session_id}]`;
      if (m.status) {
        err(dim(`${labelled ? `${label} ` : ""}[cw] session ${m.session_id} ${describeStatus(m.status)}\n`, 2));
        continue;
      }
      // A node before WatchSession.bytes sends text.
      const bytes = m.output_b64 !== undefined ? Buffer.from(m.output_b64, "base64") : Buffer.from(m.output ?? "", "utf8");
      if (!labelled) {
        out(bytes);
        continue;
      }
      // Label whole lines so sessions' output does not interleave mid-line.
      let rest = Buffer.concat([partial.get(m.session_id) ?? Buffer.alloc(0), bytes]);
      for (let nl = rest.indexOf(0x0a); nl >= 0; nl = rest.indexOf(0x0a)) {
        out(Buffer.concat([Buffer.from(`${cyan(label)} `), rest.subarray(0, nl + 1)]));
        rest = rest.subarray(nl + 1);
      }
      partial.set(m.session_id, rest);
    }
    for (const [id, rest] of partial) if (rest.length) out(Buffer.concat([Buffer.from(`${cyan(`[${id}]`)} `), rest, Buffer.from("\n")]));
    conn.close();
    if (stop.interrupted) return INTERRUPTED;
    if (!ended) return streamLost("the sessions may still run");
    // As cw wait and cw request: a timeout is not success.
    return timedOut ? EXIT.timeout : EXIT.ok;
  },
});
