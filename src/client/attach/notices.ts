/**
 * While a client is attached to one session: a one-line notice when the agent of another session
 * comes to need input or finishes its turn, so a person working in one agent hears of the others.
 *
 * It listens on a connection of its own (Subscribe to session.state), so the attach stream and
 * the node's lanes are untouched. The notice is drawn over the terminal's bottom row with the
 * cursor saved and restored (as tmux draws a message over its status line); the program's next
 * repaint of that row covers it. CODEWIRE_NOTICES=0 turns notices off.
 */
import { writeAllSync } from "../../sys/libc";
import { connectNode } from "../autostart";
import type { NodeConnection } from "../connection";
import { terminalSize } from "./terminal";

export function noticesOn(): boolean {
  return process.env.CODEWIRE_NOTICES !== "0";
}

/** Starts the notices for a client attached to session `attached`; returns the stopper. */
export function startNotices(root: string, attached: number): () => void {
  if (!noticesOn()) return () => {};
  let conn: NodeConnection | undefined;
  let stopped = false;
  void (async () => {
    try {
      conn = await connectNode(root, false);
      if (stopped) return conn.close();
      conn.send({ type: "Subscribe", events: ["session.state"] });
      for (;;) {
        const m = await conn.nextReply();
        if (!m || stopped) break;
        if (m.type !== "Event" || m.event.session_id === attached) continue;
        const state = m.event.data.state;
        if (state !== "needs-input" && state !== "idle") continue;
        const who = m.event.session_name ? `${m.event.session_id} (${m.event.session_name})` : String(m.event.session_id);
        const agent = typeof m.event.data.agent === "string" ? m.event.data.agent : "agent";
        const text = `[cw] session ${who}: ${agent} ${state === "idle" ? "is idle" : "needs input"} (cw attach ${m.event.session_id})`;
        const { cols, rows } = terminalSize();
        writeAllSync(1, new TextEncoder().encode(`\x1b7\x1b[${rows};1H\x1b[2K\x1b[7m${text.slice(0, cols)}\x1b[0m\x1b8`));
      }
    } catch {
      // Notices are a courtesy: a node that goes away ends them, not the attach.
    }
  })();
  return () => {
    stopped = true;
    conn?.close();
  };
}
