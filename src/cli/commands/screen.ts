import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { out, printJson } from "../output";
import { sessionRef } from "../target";

export default defineCwCommand({
  name: "screen",
  description: "Print a running session's screen as it looks right now, as plain text — what attaching would show. Made for full-screen programs (agents' TUIs, vim, htop), whose raw logs are mostly cursor movement.",
  usage: "cw screen <id|name> [--json]",
  examples: ["cw screen 1", "cw screen coder --json"],
  args: {
    session: { type: "positional", description: "Session id or name" },
    json: { type: "boolean", description: "Print {session, lines, cursor, alt} as JSON" },
  },
  async run({ args }) {
    const r = await call({ type: "GetScreen", id: sessionRef(args.session as string) }, "ScreenText", { blocking: true });
    if (args.json) return printJson({ session: r.session, lines: r.lines, cursor: r.cursor, alt: r.alt });
    // Trailing blank rows carry nothing.
    const lines = r.lines.slice();
    while (lines.length && !lines.at(-1)!.trim()) lines.pop();
    out(`${lines.join("\n")}\n`);
  },
});
