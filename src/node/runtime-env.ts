/**
 * Runtime settings of the node that Bun reads only when a process starts.
 *
 * Bun's garbage-collection timer collects the heap every second while the heap's size keeps
 * changing, and a node that does anything once a second (it looks at its sessions' process trees)
 * always changes it: with 100 idle sessions, those collections and the wake-ups of the threads
 * they involve were half of the idle node's CPU (per-thread schedstat; see issue 14's notes).
 * A daemon that idles for hours has no use for that pace; collections driven by allocation
 * (floods, launches) are unaffected. Bun takes the pace only from the environment at start, so
 * `cw node` re-executes itself once (same pid, same descriptors) with it set, whoever started it.
 */
import { unsetEnviron } from "../sys/environ";
import { execInPlace } from "../sys/exec";
import { isCompiledBinary } from "../sys/self";

const GC_INTERVAL_VAR = "BUN_GC_TIMER_INTERVAL";
/** Set on the re-executed node, so that it does not re-execute again, and removed at once. */
const MARK_VAR = "CODEWIRE_NODE_RUNTIME";
/** The idle collection pace of the node (Bun's default is 1000 ms). */
export const NODE_GC_INTERVAL_MS = 30_000;

/**
 * Re-executes this `cw node` with the node's runtime settings, unless it already runs with them
 * (or the user chose Bun's GC settings). Returns when nothing was done or execve failed.
 */
export function execWithNodeRuntime(): void {
  const env = process.env;
  if (env[MARK_VAR] !== undefined || env[GC_INTERVAL_VAR] !== undefined || env.BUN_GC_TIMER_DISABLE !== undefined) return;
  if (process.platform === "win32") return;
  const argv = isCompiledBinary() ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...process.execArgv, Bun.main, ...process.argv.slice(2)];
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) next[k] = v;
  next[GC_INTERVAL_VAR] = String(NODE_GC_INTERVAL_MS);
  next[MARK_VAR] = "1";
  execInPlace(argv, next);
}

/**
 * Removes what execWithNodeRuntime added from the environment the node passes on (hooks,
 * notify commands, remote clients' sessions): they are the node's settings, not theirs.
 * Both copies go: bun-pty's native spawn starts from the C environment (see sys/environ.ts).
 */
export function forgetNodeRuntimeEnv(): void {
  if (process.env[MARK_VAR] !== undefined) unsetEnviron([MARK_VAR, GC_INTERVAL_VAR]);
}
