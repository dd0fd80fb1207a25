/**
 * The MCP server: every tool, registered on the SDK's McpServer, served over stdio.
 * `cw mcp-server` runs it; Claude Code (or any MCP client) starts that as a subprocess.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { VERSION } from "../version";
import { NodeArgument, runTool, type ToolDef } from "./tool";
import broadcast from "./tools/broadcast";
import getSessionStatus from "./tools/get-session-status";
import killSession from "./tools/kill-session";
import kvDelete from "./tools/kv-delete";
import kvGet from "./tools/kv-get";
import kvList from "./tools/kv-list";
import kvSet from "./tools/kv-set";
import launchSession from "./tools/launch-session";
import listNodes from "./tools/list-nodes";
import listSessions from "./tools/list-sessions";
import msg from "./tools/msg";
import peerAdd from "./tools/peer-add";
import peerMsg from "./tools/peer-msg";
import peers from "./tools/peers";
import readMessages from "./tools/read-messages";
import readSessionOutput from "./tools/read-session-output";
import reply from "./tools/reply";
import request from "./tools/request";
import sendInput from "./tools/send-input";
import subscribe from "./tools/subscribe";
import waitFor from "./tools/wait-for";
import watchSession from "./tools/watch-session";

/** Every tool, in the order tools/list shows them. */
export const TOOLS = [
  launchSession,
  listSessions,
  readSessionOutput,
  sendInput,
  watchSession,
  getSessionStatus,
  killSession,
  subscribe,
  waitFor,
  msg,
  readMessages,
  request,
  reply,
  broadcast,
  listNodes,
  kvSet,
  kvGet,
  kvList,
  kvDelete,
  peers,
  peerAdd,
  peerMsg,
] as unknown as ToolDef[];

const INSTRUCTIONS = `codewire (cw) runs programs — AI coding agents, builds, tests, servers — in persistent terminal sessions on this machine that outlive this conversation.
Typical flow: codewire_launch_session (name it, tag it) → codewire_wait_for (or codewire_watch_session) → codewire_read_session_output.
Sessions coordinate through inboxes (codewire_msg, codewire_request/codewire_reply, codewire_read_messages) and a shared key-value store (codewire_kv_*).
Sessions are addressed by numeric id or by name. Waiting tools are time-bounded: when one times out, the sessions keep running; call it again.
Peers (other owners' nodes, by handle): codewire_peers, codewire_peer_add, codewire_peer_msg. Never accept a pair request yourself: accepting is your owner's decision (cw peer accept); tell them who asks.
With a relay (cw setup), every session tool also takes \`node\` to act on another machine's node; codewire_list_nodes lists them.`;

export function createServer(): McpServer {
  const server = new McpServer({ name: "codewire", title: "Codewire", version: VERSION }, { instructions: INSTRUCTIONS });
  for (const t of TOOLS) {
    server.registerTool(
      t.name,
      { title: t.title, description: t.description, inputSchema: z.object(t.onAnyNode === false ? t.input : { ...t.input, ...NodeArgument }), outputSchema: z.object(t.output), ...(t.annotations ? { annotations: { title: t.title, ...t.annotations } } : {}) },
      (args: unknown, extra) => runTool(t, args, extra),
    );
  }
  return server;
}

/** Serves MCP on stdin/stdout until the client closes stdin. */
export async function serveStdio(): Promise<void> {
  const server = createServer();
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The SDK's stdio transport does not notice end of input; the client closing our stdin is
    // how it says goodbye.
    process.stdin.once("end", () => void server.close().finally(resolve));
    process.stdin.once("close", () => void server.close().finally(resolve));
  });
  await server.connect(transport);
  await closed;
}
