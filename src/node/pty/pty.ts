/**
 * A child process on a pseudo-terminal: spawn, raw-byte output, input, resize, signals, exit.
 *
 * Two backends give it: bun-pty (bun-pty.ts), the default, and Bun's own terminal
 * (bun-terminal.ts), chosen with `[node] pty = "bun"` in config.toml or CODEWIRE_PTY=bun. Bun's
 * is read by the event loop itself, where bun-pty's native threads fill a channel that has to be
 * polled; `bun run bench` with BENCH_PTY=bun measures the difference.
 */
import { BunPty } from "./bun-pty";
import { BunTerminalPty, bunTerminalAvailable } from "./bun-terminal";
import type { PtyBackend } from "../../config/config";
import type { Pty, PtySpawnOptions } from "./types";

export { type Pty, type PtyExit, PtySpawnError, type PtySpawnOptions } from "./types";

export type { PtyBackend } from "../../config/config";

/** The backend that will actually run: "bun" needs a Bun with Bun.Terminal (1.3.5 and later, not on Windows). */
export function effectiveBackend(wanted: PtyBackend): PtyBackend {
  return wanted === "bun" && !bunTerminalAvailable() ? "bun-pty" : wanted;
}

export function spawnPty(opts: PtySpawnOptions, backend: PtyBackend = "bun-pty"): Pty {
  return effectiveBackend(backend) === "bun" ? new BunTerminalPty(opts) : new BunPty(opts);
}
