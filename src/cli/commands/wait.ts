import { open } from "../../client/node-client";
import type { Reply } from "../../protocol";
import { describeAgentState, describeStatus } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { EXIT, UsageError } from "../errors";
import { err, out, printJson, progress } from "../output";
import { positiveNumber, sessionRef } from "../target";

export default defineCwCommand({
  name: "wait",
  description:
    "Block until sessions finish. Exits 0 when every awaited session completed with status 0, 1 when any failed or was killed, 124 on timeout. With --state, until their agents need input or are idle instead: 0 when they are, 1 when sessions ended first, 124 on timeout.",
  usage: "cw wait [id|name...] [--tag <tag>] [--condition all|any] [--state needs-input|idle] [--timeout <seconds>]",
  examples: ["cw wait 3", "cw wait --tag worker --condition all", "cw wait --tag worker --condition any --timeout 60", "cw wait --tag agents --state needs-input --condition any", "cw wait 1 2 --json"],
  variadic: true,
  args: {
    session: { type: "positional", required: false, description: "Session id(s) or name(s)" },
    tag: { type: "string", alias: "t", description: "Wait for sessions with this tag (repeatable)" },
    condition: { type: "string", alias: "c", description: "all: every session ended; any: the first one", default: "all", valueHint: "all|any" },
    state: { type: "string", description: "Wait until the sessions' agents are in this state (not until they end)", valueHint: "needs-input|idle" },
    timeout: { type: "string", description: "Give up after this many seconds (exit 124)", valueHint: "seconds" },
    json: { type: "boolean", description: "Print the result as JSON" },
  },
  async run({ args, all }) {
    const ids = (args._ as string[]).map((r) => sessionRef(r));
    const tags = all("tag", "t");
    if (!ids.length && !tags.length) throw new UsageError("wait for what? give session ids/names or --tag", "cw wait 3 | cw wait --tag worker");
    const condition = String(args.condition);
    if (condition !== "all" && condition !== "any") throw new UsageError(`--condition is all or any, got ${JSON.stringify(condition)}`);
    const timeout = positiveNumber(args.timeout as string | undefined, "--timeout");
    const state = args.state as string | undefined;
    if (state !== undefined && state !== "needs-input" && state !== "idle") throw new UsageError(`--state is needs-input or idle, got ${JSON.stringify(state)}`);
    const conn = await open({ type: "Wait", ids, ...(tags.length ? { tags } : {}), condition, ...(timeout ? { timeout_s: timeout } : {}), ...(state ? { state } : {}) });
    const bar = progress();
    const started = Date.now();
    const tick = setInterval(() => bar.update(`waiting for ${ids.length ? ids.join(", ") : `tag ${tags.join(",")}`}${state ? ` to be ${state}` : ""} (${condition}) — ${Math.round((Date.now() - started) / 1000)}s${timeout ? ` of ${timeout}s` : ""}`), 250);
    let reply: Reply | null;
    try {
      reply = await conn.nextReply();
    } finally {
      clearInterval(tick);
      bar.done();
      conn.close();
    }
    if (!reply || reply.type !== "WaitResult") throw new Error("the node closed the connection during wait");
    const ended = reply.sessions.filter((s) => s.status !== "running");
    const failed = ended.filter((s) => !(s.status === "completed" && s.exit_code === 0));
    let status: number = reply.timed_out ? EXIT.timeout : failed.length ? EXIT.error : EXIT.ok;
    if (state && !reply.timed_out) {
      const there = reply.sessions.filter((s) => s.status === "running" && s.agent_state === state);
      status = (condition === "any" ? there.length > 0 : there.length === reply.sessions.length) ? EXIT.ok : EXIT.error;
    }
    if (args.json) printJson({ timed_out: reply.timed_out, sessions: reply.sessions });
    else {
      for (const s of reply.sessions) out(`${s.id}${s.name ? ` (${s.name})` : ""}: ${describeStatus(s)}${state ? `, ${s.agent ?? "agent"} ${describeAgentState(s.agent_state)}` : ""}\n`);
      if (reply.timed_out) err(`timed out after ${timeout}s\n`);
    }
    return status;
  },
});
