import { z } from "zod";
import { loadConfig } from "../../config/config";
import { pathsFor } from "../../config/paths";
import { remoteTarget } from "../../client/remote";
import { call } from "../node";
import { defineTool } from "../tool";

const Node = z.object({
  name: z.string(),
  local: z.boolean(),
  version: z.string(),
  data_dir: z.string(),
  pid: z.number().int(),
  sessions_running: z.number().int(),
  sessions_total: z.number().int(),
});

export default defineTool({
  name: "codewire_list_nodes",
  title: "List nodes",
  description: [
    "List the codewire nodes (machines running `cw node`) you can reach, with their name and session counts.",
    "Use it to find where sessions can run. This MCP server talks to one node: this machine's, or the remote one it was started for (`cw --server <name> mcp-server`). Listing other nodes needs a relay (`cw setup <relay-url>`), which this build cannot connect to yet.",
    "Returns the nodes, the configured relay URL (or null) and a note about what is and is not listed.",
  ].join("\n"),
  input: {},
  output: { nodes: z.array(Node), relay_url: z.string().nullable(), note: z.string() },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run() {
    const paths = pathsFor();
    let name: string;
    let relay: string | undefined;
    try {
      const cfg = loadConfig(paths.config);
      name = cfg.name;
      relay = cfg.relayUrl;
    } catch {
      // A broken config.toml stops the node, not this listing; the node's own error says why.
      name = require("node:os").hostname();
    }
    const [pong, list] = await Promise.all([call({ type: "Ping" }, "Pong"), call({ type: "ListSessions" }, "SessionList")]);
    const remote = remoteTarget();
    const node = {
      name: pong.name ?? (remote ? remote.label : name),
      local: !remote,
      version: pong.version,
      data_dir: pong.data_dir,
      pid: pong.pid,
      sessions_running: list.sessions.filter((s) => s.status === "running").length,
      sessions_total: list.sessions.length,
    };
    const which = remote ? `the node at ${remote.url}, which this server was started for` : "the local node";
    const note = relay
      ? `A relay is configured (${relay}) but this build cannot connect to relays yet: only ${which} is listed.`
      : `Only ${which}: listing other nodes needs a relay (\`cw setup <relay-url>\`), which this build does not support yet.`;
    return {
      text: `${node.name} (${remote ? "remote" : "local"}, cw ${node.version}): ${node.sessions_running} running of ${node.sessions_total} sessions, data in ${node.data_dir}\n${note}`,
      data: { nodes: [node], relay_url: relay ?? null, note },
    };
  },
});
