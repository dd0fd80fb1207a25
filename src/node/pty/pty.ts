/**
 * A child process on a pseudo-terminal: spawn, raw-byte output, input, resize, signals, exit.
 *
 * Two backends give it: Bun's own terminal (bun-terminal.ts), the default where Bun has one
 * (Linux, macOS), and bun-pty (bun-pty.ts), the fallback elsewhere (Windows) and the choice with
 * `[node] pty = "bun-pty"` in config.toml or CODEWIRE_PTY=bun-pty. Local attaches get their
 * terminal served by the node on both: lanes (node/lane/), whose thread reads the PTY while they
 * last, and on Bun's PTY a direct terminal where a lane cannot be had.
 *
 * Why Bun's is the default: its event loop reads the PTY itself, where bun-pty's native threads
 * fill a channel that has to be polled. Measured with `bun run bench` (BENCH_PTY picks the
 * backend) on a 2-core VM, quiet: ten sessions redrawing a spinner at 10 Hz cost the node
 * 1.9% of a core attached against 4.4-5.2% on bun-pty, 127 KiB per idle session against 231 KiB,
 * a peak of 93-95 MiB with 256 MiB through an attached session against 135 MiB, and the echo in
 * canonical mode was at most tmux's against 1.25-1.32x. The README's "Terminal backends" has the
 * whole comparison.
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
