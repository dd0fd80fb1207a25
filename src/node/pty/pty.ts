/**
 * A child process on a pseudo-terminal: spawn, raw-byte output, input, resize, signals, exit.
 *
 * Two backends give it: Bun's own terminal (bun-terminal.ts), the default where Bun has one
 * (Linux, macOS), and bun-pty (bun-pty.ts), the fallback elsewhere (Windows) and the choice with
 * `[node] pty = "bun-pty"` in config.toml or CODEWIRE_PTY=bun-pty. Local attaches get their
 * terminal served by the node on both: lanes on bun-pty, direct terminals on Bun's (node/lane/). Why Bun's is the default: its event loop reads the PTY itself, where
 * bun-pty's native threads fill a channel that has to be polled. Measured with `bun run bench`
 * (BENCH_PTY picks the backend) on a 2-core VM: ten sessions redrawing a spinner at 10 Hz cost
 * the node 4.0% of a core detached and 3.6% attached, against 6.7% and 49% on bun-pty (its lane
 * thread spins after output), 100 idle sessions 0.4% against 1.0%, 310 KiB per idle session
 * against 420 KiB, and the echo while typing was no slower (p50 0.9-1.2 ms against 3.4-3.8 ms
 * through lanes, the machine loaded by other work).
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

export function spawnPty(opts: PtySpawnOptions, backend: PtyBackend = "bun"): Pty {
  return effectiveBackend(backend) === "bun" ? new BunTerminalPty(opts) : new BunPty(opts);
}
