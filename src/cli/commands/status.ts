import { call } from "../../client/node-client";
import { describeAgentState, describeStatus } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { ago, bold, dim, out, printJson } from "../output";
import { sessionJson } from "../session-json";
import { positiveNumber, sessionRef } from "../target";

export default defineCwCommand({
  name: "status",
  description: "Show a session's details (status, what its agent is doing, exit code, PID, duration, output size) and its last lines of output.",
  usage: "cw status <id|name> [options]",
  examples: ["cw status 1", "cw status planner --lines 30", "cw status 1 --json"],
  args: {
    session: { type: "positional", description: "Session id or name" },
    lines: { type: "string", alias: "n", description: "Lines of recent output to show (default 10)", valueHint: "N" },
    json: { type: "boolean", description: "Print as JSON" },
  },
  async run({ args }) {
    const lines = positiveNumber(args.lines as string | undefined, "--lines") ?? 10;
    const r = await call({ type: "GetStatus", id: sessionRef(args.session as string), recent_lines: Math.min(1000, Math.floor(lines)) }, "SessionStatus", { blocking: true });
    if (args.json) return printJson({ ...sessionJson(r.session), recent_output: r.recent_output, log_path: r.log_path });
    const s = r.session;
    const rows: [string, string][] = [
      ["Session", `${s.id}${s.name ? ` (${s.name})` : ""}`],
      ["Status", describeStatus(s)],
      ["Agent", s.agent_state === "none" ? (s.agent ?? "-") : `${s.agent ?? "agent"}: ${describeAgentState(s.agent_state)} since ${ago(s.agent_state_since)} (from its ${s.agent_state_source})`],
      ["Command", s.prompt],
      ["Directory", s.working_dir],
      ["PID", s.pid === null ? "-" : String(s.pid)],
      ["Tags", s.tags.join(", ") || "-"],
      ["Started", `${s.created_at} (${ago(s.created_at)})`],
      ["Duration", s.duration_ms === null ? "-" : `${(s.duration_ms / 1000).toFixed(1)}s`],
      ["Output", `${s.output_bytes} bytes, last ${ago(s.last_output_at)}`],
      ["Attached", String(s.attached_count)],
      ["Log", r.log_path],
    ];
    out(`${rows.map(([k, v]) => `${bold(k.padEnd(10))} ${v}`).join("\n")}\n`);
    if (r.recent_output.trim()) out(`\n${dim("Recent output:")}\n${r.recent_output}\n`);
  },
});
