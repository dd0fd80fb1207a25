import { call } from "../../client/node-client";
import { SESSION_STATUSES, type SessionStatusName } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { onNode } from "../target";
import { printJson } from "../output";
import { printTable, tableOptions } from "../quick-list";
import { sessionTable, tableRow } from "../../protocol/session-table";
import { sessionJson } from "../session-json";

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
    const filter = { ...(status ? { status: status as SessionStatusName } : {}), ...(tags.length ? { tags } : {}) };
    if (args.json) return printJson((await call({ type: "ListSessions", ...filter }, "SessionList", { blocking: true })).sessions.map(sessionJson));
    // The node draws the table: it is warm, where this process would decode and lay out every
    // session cold (with 100 sessions that is most of what `cw list` costs after start-up).
    const table = tableOptions();
    const reply = await call({ type: "ListSessions", ...filter, table }, ["SessionTable", "SessionList"], { blocking: true });
    // A node older than the table request sends the sessions: draw them here.
    printTable(reply.type === "SessionTable" ? reply : { type: "SessionTable", count: reply.sessions.length, text: sessionTable(reply.sessions.map(tableRow), { ...table, now: Date.now() }) });
  },
});
