import { launchPlacement } from "../../client/launch-placement";
import { call } from "../../client/node-client";
import { sessionNameProblem } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { onNode } from "../target";
import { out, printJson, termSize } from "../output";

export default defineCwCommand({
  name: "launch",
  description: "Start a program in a new persistent session. It keeps running when nobody is attached; the node starts by itself if needed. Prints the new session's id.",
  usage: "cw launch [name] [options] -- <command> [args...]",
  examples: [
    'cw launch -- claude -p "refactor the database layer"',
    'cw launch planner -- claude -p "plan the refactor"',
    'cw launch --dir ~/project --tag worker -- aider --message "fix tests"',
    "cw launch --env DEBUG=1 -- bash -c 'npm test && npm run lint'",
    'cw launch --node dev-1 --tag worker -- claude -p "fix bug"   # on node dev-1, through the relay',
    "cw launch dev-1:builder -- make        # the same, naming the session builder",
    "cw launch --no-pty -- ./export.sh      # pipes, not a terminal: the log holds the exact bytes",
  ],
  args: {
    session: { type: "positional", required: false, description: "Unique name for the session (letters, digits, hyphens; 1-32; not all digits, which are ids); same as --name. node:name launches on that node" },
    node: { type: "string", description: "Launch on this node, through this machine's relay (`cw nodes`)" },
    name: { type: "string", description: "Name the session (alternative to the positional name)" },
    dir: { type: "string", alias: "d", description: "Working directory (default: current directory; with --server: the node's home)" },
    tag: { type: "string", alias: "t", description: "Tag the session (repeatable)" },
    env: { type: "string", alias: "e", description: "Extra environment variable K=V (repeatable)", valueHint: "K=V" },
    pty: {
      type: "boolean",
      default: true,
      description: "Run the program on a terminal (the default)",
      negativeDescription: "Give it pipes instead of a terminal: output byte for byte (no CR before each LF), input not echoed; for scripts and data, not TUIs",
    },
    json: { type: "boolean", description: "Print the new session as JSON" },
  },
  async run({ args, rest, all }) {
    if (rest.length === 0) throw new UsageError("no command given", "put the command after --, e.g. cw launch -- bash");
    let positional = args.session as string | undefined;
    const colon = positional?.indexOf(":") ?? -1;
    if (positional !== undefined && colon >= 0) {
      onNode(positional.slice(0, colon));
      positional = positional.slice(colon + 1) || undefined;
    }
    if (args.node !== undefined) onNode(args.node as string);
    const flagName = args.name as string | undefined;
    if (positional !== undefined && flagName !== undefined && positional !== flagName) {
      throw new UsageError(`two names given: ${JSON.stringify(positional)} and --name ${JSON.stringify(flagName)}`, "name the session once, either `cw launch <name> -- ...` or `cw launch --name <name> -- ...`");
    }
    const name = positional ?? flagName;
    const problem = name === undefined ? undefined : sessionNameProblem(name);
    if (problem) {
      const digits = /^\d+$/.test(name!);
      throw new UsageError(
        `invalid session name ${JSON.stringify(name)}: ${problem}`,
        digits ? `\`cw kill ${name}\` would mean session id ${name}; add a letter or hyphen, e.g. job-${name}` : "names are 1-32 letters, digits and hyphens, starting with a letter or digit, and not all digits",
      );
    }
    const extra: Record<string, string> = {};
    for (const kv of all("env", "e")) {
      const i = kv.indexOf("=");
      if (i <= 0) throw new UsageError(`--env needs K=V, got ${JSON.stringify(kv)}`);
      extra[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const reply = await call(
      {
        type: "Launch",
        command: rest,
        ...(name ? { name } : {}),
        ...launchPlacement(args.dir as string | undefined, extra),
        tags: all("tag", "t"),
        ...(args.pty === false ? { terminal: false } : {}),
        ...termSize(),
      },
      "Launched",
    );
    if (args.json) printJson(reply.session);
    else out(`${reply.session.id}\n`);
  },
});
