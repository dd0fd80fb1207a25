import { launchPlacement } from "../../client/launch-placement";
import { call } from "../../client/node-client";
import { NODE_NAME_RE, sessionNameProblem } from "../../protocol/constants";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { namedNode, onNode } from "../target";
import { dim, err, out, printJson, termSize, yellow } from "../output";
import { sessionJson } from "../session-json";
import { remoteTarget } from "../../client/remote-target";
import { dataDir } from "../../config/paths";

/**
 * Whether `word`, given where a session name goes, names a node of this machine's relay (and so
 * asks for a launch there). This machine's own node is both at once: refused, with both ways to
 * say it. With --name beside it the word can only be the node.
 */
async function isRelayNode(word: string, nameGiven: boolean): Promise<boolean> {
  if (!NODE_NAME_RE.test(word)) return false;
  const { relayNodes } = await import("../../client/relay-nodes");
  let nodes;
  try {
    nodes = await relayNodes(dataDir());
  } catch (e) {
    // The relay cannot say: the word stays a session name here, but say why it was not checked.
    err(`${yellow("warning:", 2)} could not ask the relay whether ${word} is a node (${(e as Error).message}); launching here, as a session named ${word}\n`);
    return false;
  }
  if (!nodes?.names.includes(word)) return false;
  if (word === nodes.self && !nameGiven) {
    throw new UsageError(
      `${JSON.stringify(word)} is both this machine's node and a possible session name`,
      `cw launch ${word}: -- … launches on the node (here) unnamed; cw launch --name ${word} -- … names the session ${word}`,
    );
  }
  return true;
}

export default defineCwCommand({
  name: "launch",
  description: "Start a program in a new persistent session. It keeps running when nobody is attached; the node starts by itself if needed. Prints the new session's id (node:id when launched on another node).",
  usage: "cw launch [name] [options] -- <command> [args...]",
  examples: [
    'cw launch -- claude -p "refactor the database layer"',
    'cw launch planner -- claude -p "plan the refactor"',
    'cw launch --dir ~/project --tag worker -- aider --message "fix tests"',
    "cw launch --env DEBUG=1 -- bash -c 'npm test && npm run lint'",
    'cw launch --node dev-1 --tag worker -- claude -p "fix bug"   # on node dev-1, through the relay',
    "cw launch dev-1:builder -- make        # the same, naming the session builder",
    'cw launch dev-1 -- claude -p "fix bug"   # dev-1 names a node of the relay: launched there, prints dev-1:<id>',
    "cw launch --no-pty -- ./export.sh      # pipes, not a terminal: the log holds the exact bytes",
  ],
  args: {
    session: { type: "positional", required: false, description: "Unique name for the session (letters, digits, hyphens; 1-32; not all digits, which are ids); same as --name. A node of this machine's relay launches there (cw launch dev-1 -- …); node:name launches on that node with that name" },
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
    // `cw launch dev-1 -- …` (the seed's remote launch): a word that names a node of the relay.
    if (positional !== undefined && colon < 0 && namedNode() === undefined && !remoteTarget()) {
      if (await isRelayNode(positional, flagName !== undefined)) {
        onNode(positional);
        err(dim(`[cw] launching on node ${positional}, through the relay\n`, 2));
        positional = undefined;
      }
    }
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
    if (args.json) printJson(sessionJson(reply.session));
    // Launched on a node named by the command: print the address that reaches the session from here.
    else out(`${namedNode() !== undefined ? `${namedNode()}:` : ""}${reply.session.id}\n`);
  },
});
