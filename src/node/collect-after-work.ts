/**
 * A garbage collection a second after the node has served requests.
 *
 * The node runs with Bun's own collection pace at 30 s (runtime-env.ts), so that an idle node is
 * not woken every second to collect. Garbage from a burst of work would then wait longer: right
 * after 50 launches the node held 198-213 KiB a session, 160-164 with this. So work asks for one collection
 * (asynchronous, and mimalloc returns free pages with it) a second after it started, at most one
 * a second while requests keep coming, and none while nothing happens.
 */
const COLLECT_AFTER_MS = 1000;

let pending: ReturnType<typeof setTimeout> | undefined;

export function collectSoon(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = undefined;
    Bun.gc(false);
  }, COLLECT_AFTER_MS);
  pending.unref?.();
}
