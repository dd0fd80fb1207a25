import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { out, printJson } from "../output";
import { sessionRef } from "../target";

export default defineCwCommand({
  name: "kill",
  description: "Terminate sessions: by id or name, every session with a tag, or all. The program gets SIGHUP and SIGTERM, then SIGKILL if it is still there after 3 s.",
  usage: "cw kill <id|name>... | --tag <tag> | --all",
  examples: ["cw kill 3", "cw kill planner coder", "cw kill --tag worker", "cw kill --all"],
  variadic: true,
  args: {
    session: { type: "positional", required: false, description: "Session id(s) or name(s)" },
    tag: { type: "string", alias: "t", description: "Kill every running session with this tag (repeatable)" },
    all: { type: "boolean", description: "Kill every running session" },
    signal: { type: "string", alias: "s", description: "Signal to send: SIGTERM, SIGKILL, SIGINT, SIGHUP", default: "SIGTERM" },
    json: { type: "boolean", description: "Print the killed ids as JSON" },
  },
  async run({ args, all }) {
    const tags = all("tag", "t");
    const refs = (args._ as string[]).map((r) => sessionRef(r));
    const signal = String(args.signal).toUpperCase().replace(/^(?!SIG)/, "SIG");
    if (!["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP"].includes(signal)) throw new UsageError(`unsupported signal ${args.signal}`, "use SIGTERM, SIGKILL, SIGINT or SIGHUP");
    const chosen = [refs.length > 0, tags.length > 0, Boolean(args.all)].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError("say what to kill: session ids/names, --tag, or --all (one of them)", "cw kill 3 | cw kill --tag worker | cw kill --all");
    let ids: number[] = [];
    if (args.all) ids = (await call({ type: "KillAll" }, "KilledAll", { blocking: true })).ids;
    else if (tags.length) ids = (await call({ type: "KillByTags", tags }, "Killed", { blocking: true })).ids;
    else for (const id of refs) ids.push(...(await call({ type: "Kill", id, signal: signal as "SIGTERM" }, "Killed", { blocking: true })).ids);
    if (args.json) return printJson({ killed: ids });
    out(ids.length ? `killed ${ids.join(", ")}\n` : "nothing was running\n");
  },
});
