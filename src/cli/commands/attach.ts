import { attach } from "../../client/attach/attach";
import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { describeStatus } from "../../protocol/constants";
import { sessionRef } from "../target";
import { err } from "../output";

export default defineCwCommand({
  name: "attach",
  description: "Connect your terminal to a session. Output passes through raw, so your terminal's own scrolling and copy/paste work. Detach with Ctrl+B then d; the session keeps running. Without an id, attaches to the oldest running session. On Linux a node on this machine serves your terminal itself, for tmux-like typing latency; CODEWIRE_LANES=0 keeps everything on the socket.",
  usage: "cw attach [id|name] [options]",
  examples: ["cw attach 1", "cw attach planner", "cw attach --no-history 3", "CODEWIRE_LANES=0 cw attach 1   # through the socket, as for remote nodes"],
  args: {
    session: { type: "positional", required: false, description: "Session id or name" },
    history: { type: "boolean", default: true, description: "Paint the current screen and recent scrollback first", negativeDescription: "Start with live output only" },
  },
  async run({ args }) {
    if (!process.stdin.isTTY) throw new UsageError("attach needs a terminal on stdin", "use `cw send` to type into a session and `cw watch` to follow it from a script");
    let ref = args.session === undefined ? undefined : sessionRef(args.session as string);
    if (ref === undefined) {
      const { sessions } = await call({ type: "ListSessions", status: "running" }, "SessionList");
      if (!sessions.length) throw new UsageError("no running session to attach to", "start one with: cw launch -- <command>");
      ref = sessions[0]!.id;
    }
    const out = await attach(ref, { history: args.history !== false });
    const s = out.session;
    const label = s ? `session ${s.id}${s.name ? ` (${s.name})` : ""}` : "session";
    const what = out.reason === "detached" ? `detached from ${label}` : out.reason === "disconnected" ? `lost the connection to the node (${label})${out.why ? `: ${out.why}` : ""}` : `${label} ${s ? describeStatus(s) : out.reason}${out.reason === "node_stopping" ? " (the node stopped)" : ""}`;
    err(`[cw] ${what}\n`);
    return out.reason === "disconnected" ? 1 : 0;
  },
});
