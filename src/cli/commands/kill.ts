import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { out, printJson } from "../output";
import { sessionRef } from "../target";

const SIGNALS = ["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP"] as const;

export default defineCwCommand({
  name: "kill",
  description:
    "Terminate sessions: by id or name, every session with a tag, or all. Ends every process the session started, also daemons that left its process group: they get SIGHUP and SIGTERM, or with --signal that signal alone, then SIGKILL if still there after 3 s. A session whose program has ended but left processes running (cw status shows them): those are ended.",
  usage: "cw kill <id|name>... | --tag <tag> | --all [--signal SIG]",
  examples: ["cw kill 3", "cw kill planner coder", "cw kill --tag worker", "cw kill --all", "cw kill 3 --signal SIGINT   # as Ctrl+C would; SIGKILL after 3 s if it is still there"],
  variadic: true,
  args: {
    session: { type: "positional", required: false, description: "Session id(s) or name(s)" },
    tag: { type: "string", alias: "t", description: "Kill every session with this tag that runs something (repeatable)" },
    all: { type: "boolean", description: "Kill every session that runs something" },
    signal: { type: "string", alias: "s", description: "Send this signal alone instead of SIGHUP and SIGTERM: SIGTERM, SIGINT, SIGHUP, SIGKILL (SIGKILL still follows after 3 s)", valueHint: "SIG" },
    json: { type: "boolean", description: "Print the killed ids as JSON" },
  },
  async run({ args, all }) {
    const tags = all("tag", "t");
    const refs = (args._ as string[]).map((r) => sessionRef(r));
    let signal: (typeof SIGNALS)[number] | undefined;
    if (args.signal !== undefined) {
      const name = String(args.signal).toUpperCase().replace(/^(?!SIG)/, "SIG");
      if (!SIGNALS.includes(name as never)) throw new UsageError(`unsupported signal ${args.signal}`, "use SIGTERM, SIGKILL, SIGINT or SIGHUP");
      signal = name as (typeof SIGNALS)[number];
    }
    const chosen = [refs.length > 0, tags.length > 0, Boolean(args.all)].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError("say what to kill: session ids/names, --tag, or --all (one of them)", "cw kill 3 | cw kill --tag worker | cw kill --all");
    const how = signal ? { signal } : {};
    let ids: number[] = [];
    if (args.all) ids = (await call({ type: "KillAll", ...how }, "KilledAll", { blocking: true })).ids;
    else if (tags.length) ids = (await call({ type: "KillByTags", tags, ...how }, "Killed", { blocking: true })).ids;
    else for (const id of refs) ids.push(...(await call({ type: "Kill", id, ...how }, "Killed", { blocking: true })).ids);
    if (args.json) return printJson({ killed: ids });
    out(ids.length ? `killed ${ids.join(", ")}\n` : "nothing was running\n");
  },
});
