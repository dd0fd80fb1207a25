/** What a new session starts with on the node's side: its directory and, for remote clients, the node's environment. */
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { withoutMultiplexer } from "../config/multiplexer-env";

/** An absolute path as given; nothing, `~`, `~/x` or a relative path are the node's home (or under it). */
export function workingDir(requested: string | undefined): string {
  const home = homedir();
  if (!requested || requested === "~") return home;
  if (requested.startsWith("~/")) return join(home, requested.slice(2));
  return isAbsolute(requested) ? requested : join(home, requested);
}

/** The node's own environment (for sessions of remote clients), minus what names a session or a multiplexer. */
export function nodeEnv(terminal = true): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "CW_SESSION_ID" && k !== "CW_SESSION_NAME") env[k] = v;
  // The terminal the node was started from is not the session's, and a program on pipes has none.
  if (!terminal) delete env.TERM;
  // A node started inside tmux is not a session inside it either.
  return withoutMultiplexer(env);
}
