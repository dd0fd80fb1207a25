/**
 * The JIT's eagerness. The binary starts with JavaScriptCore's tier-up thresholds scaled up
 * (scripts/build.ts, `jitPolicy`): a command that runs for a few milliseconds gains nothing from
 * compiling code it runs once, and paid for it (`cw list --json` with 100 sessions: 5.4 -> 4.9
 * ms), and a node's start-up code stays interpreted (idle node RSS ~1 MiB less).
 *
 * Processes that run for long and serve (the node and its worker threads, the relay, `cw web`,
 * the MCP server) call this once they are ready: at the scaled thresholds ten spinners cost the
 * node's main thread ~20% more CPU. Each thread has its own VM, so each thread calls it.
 */
export function normalJit(): void {
  // Absent in a Bun without it (the tests' `bun` is the same version; a guard costs nothing).
  Bun.unsafe.setJITPolicy?.(1);
}
