import { open } from "../../client/node-client";
import { checkReply } from "../../client/errors";
import type { Reply } from "../../protocol";
import { defineCwCommand } from "../define";
import { closeOnInterrupt, INTERRUPTED, streamLost } from "../interrupt";
import { positiveNumber, sessionRef } from "../target";
import { out, printJson } from "../output";

export default defineCwCommand({
  name: "logs",
  description: "Print what a session's program wrote (also after it finished). --follow streams new output and stops by itself when the session ends (Ctrl+C: exit 130).",
  usage: "cw logs <id|name> [options]",
  examples: ["cw logs 1", "cw logs 1 --tail 100", "cw logs planner --follow", "cw logs 1 --plain > run.txt"],
  args: {
    session: { type: "positional", description: "Session id or name" },
    follow: { type: "boolean", alias: "f", description: "Keep streaming new output until the session ends" },
    tail: { type: "string", alias: "n", description: "Only the last N lines", valueHint: "N" },
    plain: { type: "boolean", description: "The text as the terminal shows it (cursor moves and overwrites applied, colours dropped)" },
    json: { type: "boolean", description: "Print {session, output} as JSON (plain text output)" },
  },
  async run({ args }) {
    const tail = positiveNumber(args.tail as string | undefined, "--tail");
    // --plain and --json: the node renders the text through a terminal model and sends lines.
    const plain = Boolean(args.plain || args.json);
    const conn = await open({ type: "Logs", id: sessionRef(args.session as string), follow: Boolean(args.follow) && !args.json, plain, ...(tail ? { tail_lines: Math.floor(tail) } : {}) });
    const decoder = new TextDecoder();
    let text = "";
    let session: unknown;
    const stop = closeOnInterrupt(conn);
    let ended = false;
    for (;;) {
      const f = await conn.next();
      if (!f) break;
      if (f.kind === "data") {
        if (args.json) text += decoder.decode(f.bytes, { stream: true });
        else out(f.bytes);
        continue;
      }
      const m = checkReply(f.message as Reply);
      if (m.type === "LogData") session = m.session;
      if (m.type === "StreamEnd") {
        ended = true;
        session = m.session ?? session;
        break;
      }
    }
    conn.close();
    if (args.json) printJson({ session, output: text + decoder.decode() });
    if (stop.interrupted) return INTERRUPTED;
    if (!ended) return streamLost("the session may still run");
  },
});
