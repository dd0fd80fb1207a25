import { z } from "zod";
import { RelayClient } from "../../client/relay-client";
import { remoteTarget } from "../../client/remote-target";
import { loadConfig } from "../../config/config";
import { pathsFor } from "../../config/paths";
import { personToken, readRelaySettings } from "../../config/relay";
import { call } from "../node";
import { defineTool } from "../tool";

const Node = z.object({
  name: z.string(),
  /** On this machine. */
  local: z.boolean(),
  /** The node the other tools act on (this machine's, or the one given with --server/--node). */
  current: z.boolean(),
  connected: z.boolean(),
  version: z.string().nullable(),
  data_dir: z.string().nullable(),
  pid: z.number().int().nullable(),
  sessions_running: z.number().int().nullable(),
  sessions_total: z.number().int().nullable(),
  last_seen_at: z.string().nullable(),
});

export default defineTool({
  name: "codewire_list_nodes",
  title: "List nodes",
  description: [
    "List the codewire nodes (machines running `cw node`) you can reach: the one this MCP server talks to, with its session counts, and, when this machine has a relay (`cw setup`), every node registered with it and whether it is online.",
    "Use it to find where sessions can run. The other tools act on the node marked local; a person reaches the others with `cw --node <name> ...` or `cw attach <name>:<id>`.",
    "Returns the nodes, the relay URL (or null) and a note about what is listed.",
  ].join("\n"),
  input: {},
  output: { nodes: z.array(Node), relay_url: z.string().nullable(), note: z.string() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  onAnyNode: false,
  async run() {
    const paths = pathsFor();
    let name: string;
    try {
      name = loadConfig(paths.config).name;
    } catch {
      // A broken config.toml stops the node, not this listing; the node's own error says why.
      name = require("node:os").hostname();
    }
    let relay: ReturnType<typeof readRelaySettings>;
    try {
      relay = readRelaySettings(paths.relay);
    } catch {
      relay = undefined;
    }
    const remote = remoteTarget();
    const [pong, list] = await Promise.all([call({ type: "Ping" }, "Pong"), call({ type: "ListSessions" }, "SessionList")]);
    const here: z.infer<typeof Node> = {
      // Others reach this machine's node by its relay name, so that is the name to show.
      name: remote ? (pong.name ?? remote.label) : (relay?.node ?? pong.name ?? name),
      local: !remote,
      current: true,
      connected: true,
      version: pong.version,
      data_dir: pong.data_dir,
      pid: pong.pid,
      sessions_running: list.sessions.filter((s) => s.status === "running").length,
      sessions_total: list.sessions.length,
      last_seen_at: new Date().toISOString(),
    };
    const nodes = [here];
    let note = remote ? `The local entry is the node at ${remote.url}, which this server was started for.` : "The local entry is this machine's node.";
    if (relay) {
      try {
        for (const n of await new RelayClient(relay.url, personToken(relay)).nodes()) {
          if (n.name === here.name) continue;
          const mine = !remote && n.name === relay.node;
          nodes.push({ name: n.name, local: mine, current: false, connected: n.connected, version: null, data_dir: null, pid: null, sessions_running: null, sessions_total: null, last_seen_at: n.last_seen_at });
        }
        note += ` The others are registered with the relay ${relay.url}; their details show once you reach them.`;
      } catch (e) {
        note += ` The relay ${relay.url} could not be asked for its nodes: ${(e as Error).message}`;
      }
    } else note += " This machine has no relay (`cw setup <relay-url>`), so no other nodes are listed.";
    const lines = nodes.map((n) => (n.current ? `${n.name} (${n.local ? "local" : "remote"}, cw ${n.version}): ${n.sessions_running} running of ${n.sessions_total} sessions, data in ${n.data_dir}` : `${n.name} (${n.connected ? "online" : "offline"} via relay)`));
    return { text: `${lines.join("\n")}\n${note}`, data: { nodes, relay_url: relay?.url ?? null, note } };
  },
});
