/**
 * The JIT's eagerness. The binary starts with JavaScriptCore's tier-up thresholds scaled up
 * (scripts/build.ts, `jitPolicy`): a command that runs for a few milliseconds gains nothing from
 * compiling code it runs once, and paid for it (`cw list --json` with 100 sessions: 5.4 -> 4.9
 * ms).
 *
 * Commands that serve until stopped (the node, the relay, `cw web`, the MCP server) set it back
 * first thing (main.ts), and so does each worker thread of theirs (each thread has its own VM).
 * Left scaled, ten spinners cost the node's main thread ~20% more CPU. Set back only once the
 * node listened, its start-up code stayed interpreted and the idle node was ~3 MiB smaller, but
 * the first sessions launched paid it back (RSS with 100 sessions within 0.6 MiB): a cost moved
 * into "per session", not saved.
 */
export function normalJit(): void {
  // Absent in a Bun without it (the tests' `bun` is the same version; a guard costs nothing).
  Bun.unsafe.setJITPolicy?.(1);
}
