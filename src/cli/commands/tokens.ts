import { RelayClient } from "../../client/relay-client";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { ago, dim, out, printJson, table } from "../output";
import { operatorRelay } from "../relay-operator";

export default defineCwCommand({
  name: "tokens",
  description:
    "The relay's user tokens (the operator's, with the admin token): what people's commands act with. `cw setup` with the admin token, or an approved device, writes one for its machine (named after the node); a user token lists and reaches every node, but cannot register nodes or manage tokens. Revoke a lost machine's token here; its node token goes with `cw nodes`' DELETE.",
  usage: "cw tokens [list] | cw tokens create <name> | cw tokens revoke <name>  [--relay URL] [--token <admin token>]",
  examples: ["cw tokens", "cw tokens create alice-laptop", "cw tokens revoke dev-1", "CW_AUTH_TOKEN=... cw tokens --relay https://relay.example.com"],
  args: {
    action: { type: "positional", required: false, description: "list (default), create or revoke" },
    name: { type: "positional", required: false, description: "For create and revoke: the token's name" },
    relay: { type: "string", description: "The relay's URL (default: this machine's, from cw setup)", valueHint: "url" },
    token: { type: "string", description: "The relay's admin token (or set CW_AUTH_TOKEN)" },
    json: { type: "boolean", description: "Print JSON" },
  },
  async run({ args }) {
    const relay: RelayClient = operatorRelay(args.relay as string | undefined, args.token as string | undefined);
    const name = args.name as string | undefined;
    switch (args.action ?? "list") {
      case "list": {
        const users = await relay.users();
        if (args.json) return printJson(users);
        if (users.length === 0) return out(dim("no user tokens\n"));
        out(`${table(["NAME", "ISSUED"], users.map((u) => [u.name, ago(u.created_at)]))}\n`);
        return;
      }
      case "create": {
        if (!name) throw new UsageError("cw tokens create needs a name", "cw tokens create alice-laptop");
        const r = await relay.createUser(name);
        if (args.json) return printJson(r);
        out(`${r.token}\n`);
        process.stderr.write(`user token ${r.name} (shown once; the relay keeps only its hash). On the machine that uses it, put it in relay.toml as user_token = "…"\n`);
        return;
      }
      case "revoke": {
        if (!name) throw new UsageError("cw tokens revoke needs a name", "cw tokens lists them");
        await relay.deleteUser(name);
        if (args.json) return printJson({ revoked: name });
        out(`revoked ${name}\n`);
        return;
      }
      default:
        throw new UsageError(`unknown tokens action ${JSON.stringify(args.action)}`, "use list, create or revoke");
    }
  },
});
