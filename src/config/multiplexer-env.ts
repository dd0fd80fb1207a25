/**
 * What a session's environment must not carry from the terminal it was launched from.
 *
 * A session's terminal is the node's PTY, not the terminal multiplexer `cw launch` ran in:
 * programs that see TMUX (or screen's STY, zellij's ZELLIJ) believe they run inside it, and
 * talk to it (agents wrap their escape sequences in tmux's passthrough, ask tmux for the
 * clipboard, run `tmux` commands against the launching server). Its TERM names that
 * multiplexer too; the session's terminal is an xterm. Applied to the environment a session
 * inherits (the caller's, or the node's), never to what `--env` asks for explicitly.
 */
const MULTIPLEXER_VARS = ["TMUX", "TMUX_PANE", "TMUX_PLUGIN_MANAGER_PATH", "STY", "WINDOW", "ZELLIJ", "ZELLIJ_SESSION_NAME", "ZELLIJ_PANE_ID"];

export function withoutMultiplexer(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  for (const k of MULTIPLEXER_VARS) delete out[k];
  if (out.TERM_PROGRAM && /^(tmux|screen|zellij)$/i.test(out.TERM_PROGRAM)) {
    delete out.TERM_PROGRAM;
    delete out.TERM_PROGRAM_VERSION;
  }
  if (out.TERM && /^(screen|tmux)/.test(out.TERM)) out.TERM = "xterm-256color";
  return out;
}
