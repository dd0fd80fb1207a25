import { checkReply } from "../../client/connection";
import { open } from "../../client/node-client";
import type { Reply } from "../../protocol";
import { describeStatus } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { EXIT, UsageError } from "../errors";
import { cyan, dim, err, out, printJson } from "../output";
import { positiveNumber, sessionRef } from "../target";

export default defineCwCommand({
  name: "watch",
  description: "Follow a session's output read-only, without taking over your terminal. With --tag, follows every session with that tag, each line labelled by its session. Ends when the sessions end (exit 0) or at --timeout (exit 124).",
  usage: "cw watch <id|name> | --tag <tag> [options]",
  examples: ["cw watch 1", "cw watch 1 --tail 50", "cw watch 1 --no-history", "cw watch --tag worker --timeout 60", "cw watch 2 --json"],
  args: {
    session: { type: "positional", required: false, description: "Session id or name" },
    tag: { type: "string", alias: "t", description: "Watch every session with this tag (repeatable)" },
    tail: { type: "string", alias: "n", description: "Start from the last N lines (default 20)", valueHint: "N" },
    history: { type: "boolean", default: true, description: "Show recent output first", negativeDescription: "Only new output" },
    timeout: { type: "string", description: "Stop after this many seconds (exit 124)", valueHint: "seconds" },
    json: { type: "boolean", description: "One JSON object per update (JSON lines)" },
  },
  async run({ args, all }) {
    const tags = all("tag", "t");
    if ((args.session === undefined) === (tags.length === 0)) throw new UsageError("watch one session (id or name) or sessions with --tag", "cw watch 1 | cw watch --tag worker");
    const tail = positiveNumber(args.tail as string | undefined, "--tail");
    const timeout = positiveNumber(args.timeout as string | undefined, "--timeout");
    const conn = await open({
      type: "WatchSession",
      ...(args.session !== undefined ? { id: sessionRef(args.session as string) } : { tags }),
      history: args.history !== false,
      ...(tail ? { tail_lines: Math.floor(tail) } : {}),
      ...(timeout ? { timeout_s: timeout } : {}),
      // Output as the program's bytes, written out as they are; --json prints text.
      bytes: !args.json,
    });
    process.once("SIGINT", () => conn.close());
    const labelled = tags.length > 0;
    const partial = new Map<number, Buffer>();
    let timedOut = false;
    for (;;) {
      const f = await conn.next();
      if (!f || f.kind !== "control") {
        if (!f) break;
        continue;
      }
      const m = checkReply(f.message as Reply);
      if (m.type === "StreamEnd") {
        timedOut = m.reason === "timeout";
        if (args.json) out(`${JSON.stringify({ end: m.reason })}\n`);
        else if (m.reason === "timeout") err(dim("[cw] watch timed out\n", 2));
        break;
      }
      if (m.type !== "WatchUpdate") continue;
      if (args.json) {
        out(`${JSON.stringify(m)}\n`);
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
    // As cw wait and cw request: a timeout is not success.
    return timedOut ? EXIT.timeout : EXIT.ok;
  },
});
