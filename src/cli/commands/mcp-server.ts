import { defineCwCommand } from "../define";

export default defineCwCommand({
  name: "mcp-server",
  description:
    "Serve the Model Context Protocol on stdin/stdout, so an AI agent (Claude Code or any MCP client) can launch, watch and coordinate sessions through tools. An MCP client starts this; you do not run it by hand. `cw mcp install` registers it with Claude Code.",
  usage: "cw mcp-server",
  examples: ["claude mcp add --scope user codewire -- cw mcp-server", "cw mcp install"],
  args: {},
  async run() {
    // Loaded here so no other command pays for the MCP SDK.
    const { serveStdio } = await import("../../mcp/server");
    await serveStdio();
  },
});
