import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { out, printJson } from "../output";
import { operatorRelay } from "../relay-operator";

export default defineCwCommand({
  name: "grant",
  description:
    "Let one node's token reach another node (the operator's, with the admin token): for cross-node messages and `--node` from a machine that holds only its node token (one registered with an invite). By default a node's token reaches no node but itself. `*` grants every node; --revoke takes a grant back. `cw nodes` shows what each node may reach.",
  usage: "cw grant <from-node> <to-node|*> [--revoke] [--relay URL] [--token <admin token>]",
  examples: ["cw grant ci-box gpu-box", "cw grant ci-box '*'", "cw grant ci-box gpu-box --revoke"],
  args: {
    from: { type: "positional", description: "The node whose token gets the access" },
    to: { type: "positional", description: "The node it may reach, or * for every node" },
    revoke: { type: "boolean", description: "Take the grant back" },
    relay: { type: "string", description: "The relay's URL (default: this machine's, from cw setup)", valueHint: "url" },
    token: { type: "string", description: "The relay's admin token (or set CW_AUTH_TOKEN)" },
    json: { type: "boolean", description: "Print JSON" },
  },
  async run({ args }) {
    if (!args.from || !args.to) throw new UsageError("cw grant needs a node and what it may reach", "cw grant ci-box gpu-box");
    const r = await operatorRelay(args.relay as string | undefined, args.token as string | undefined).grant(String(args.from), String(args.to), !args.revoke);
    if (args.json) return printJson(r);
    out(r.granted ? `${r.from} may now reach ${r.to === "*" ? "every node" : r.to}\n` : `${r.from} may no longer reach ${r.to === "*" ? "every node (by that grant)" : r.to}\n`);
  },
});
