import { call } from "../../client/node-client";
import { SESSION_STATUSES, type SessionStatusName } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { onNode } from "../target";
import { dim, out, printJson, table, termSize, useColor } from "../output";

export default defineCwCommand({
  name: "list",
  description: "List sessions: running ones and those that completed, were killed or were lost when a node stopped, with exit codes and age.",
  examples: ["cw list", "cw list --status running", "cw list --tag worker --json", "cw list dev-1          # sessions on node dev-1 (through the relay)"],
  args: {
    node: { type: "positional", required: false, description: "List another node's sessions, through this machine's relay (`cw nodes`)" },
    status: { type: "string", description: "Only sessions with this status: running, completed, killed, lost" },
    tag: { type: "string", alias: "t", description: "Only sessions with this tag (repeatable)" },
    json: { type: "boolean", description: "Print a JSON array of sessions" },
  },
  async run({ args, all }) {
    if (args.node !== undefined) onNode(args.node as string);
    const status = args.status as string | undefined;
    if (status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`unknown status ${JSON.stringify(status)}`, `use one of: ${SESSION_STATUSES.join(", ")}`);
    }
    const tags = all("tag", "t");
    const { sessions } = await call({ type: "ListSessions", ...(status ? { status: status as SessionStatusName } : {}), ...(tags.length ? { tags } : {}) }, "SessionList", { blocking: true });
    if (args.json) return printJson(sessions);
    if (sessions.length === 0) {
      out(dim("no sessions — start one with: cw launch -- <command>\n"));
      return;
    }
    const width = Math.max(30, termSize().cols - 60);
    // One loop with no calls into our own functions per row: run once and cold, each function
    // called per row would be JIT-compiled after a few dozen rows, work a short command never
    // gets back (see table() in output.ts).
    const paint = useColor();
    const now = Date.now();
    const rows: string[][] = [];
    for (const s of sessions) {
      let status: string = s.status;
      let code = s.status === "running" ? "32" : s.status === "killed" ? "33" : "31";
      if (s.status === "completed") {
        status = `completed (${s.exit_code ?? "?"})`;
        if (s.exit_code === 0) code = "";
      }
      const secs = Math.max(0, Math.round((now - Date.parse(s.created_at)) / 1000));
      rows.push([
        String(s.id),
        s.name ?? "-",
        s.prompt.length <= width ? s.prompt : `${s.prompt.slice(0, width - 1)}…`,
        paint && code ? `\x1b[${code}m${status}\x1b[0m` : status,
        secs < 60 ? `${secs}s ago` : secs < 3600 ? `${Math.floor(secs / 60)}m ago` : secs < 86400 ? `${Math.floor(secs / 3600)}h ago` : `${Math.floor(secs / 86400)}d ago`,
        s.tags.join(","),
      ]);
    }
    out(`${table(["ID", "NAME", "COMMAND", "STATUS", "AGE", "TAGS"], rows)}\n`);
  },
});
