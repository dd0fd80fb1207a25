import { RelayClient } from "../../client/relay-client";
import { NodeUnavailableError } from "../../client/errors";
import { dataDir, pathsFor } from "../../config/paths";
import { personToken, readRelaySettings } from "../../config/relay";
import { defineCwCommand } from "../define";
import { ago, dim, green, out, printJson, table } from "../output";

export default defineCwCommand({
  name: "nodes",
  description: "List the nodes registered with this machine's relay (`cw setup`), online or not. Reach one with `cw list <node>`, `cw attach <node>:<id>` or `ssh <node>@relay -p 2222`.",
  examples: ["cw nodes", "cw nodes --json"],
  args: {
    json: { type: "boolean", description: "Print a JSON array of nodes" },
  },
  async run({ args }) {
    const settings = readRelaySettings(pathsFor(dataDir()).relay);
    if (!settings) throw new NodeUnavailableError("this machine has no relay", "run `cw setup <relay-url> --token <admin token>` first");
    const nodes = await new RelayClient(settings.url, personToken(settings)).nodes();
    if (args.json) return printJson(nodes.map((n) => ({ ...n, this_machine: n.name === settings.node })));
    if (nodes.length === 0) {
      out(dim(`no nodes registered with ${settings.url}\n`));
      return;
    }
    const rows = nodes.map((n) => [
      n.name === settings.node ? `${n.name} *` : n.name,
      n.connected ? green("online") : dim("offline"),
      n.last_seen_at ? ago(n.last_seen_at) : "never",
      ago(n.registered_at),
      // What this node's own token may reach besides itself (cw grant); people reach them all.
      n.may_reach === undefined ? "?" : n.may_reach.length === 0 ? dim("itself") : n.may_reach.map((t) => (t === "*" ? "every node" : t)).join(", "),
    ]);
    out(`${table(["NAME", "STATUS", "LAST SEEN", "REGISTERED", "ITS TOKEN REACHES"], rows)}\n${dim(`relay ${settings.url}; * this machine; grant a node more with cw grant`)}\n`);
  },
});
