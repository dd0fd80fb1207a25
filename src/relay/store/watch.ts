/**
 * Tells the operator when the relay loses its database and when it has it back: the store is
 * asked every few seconds, and only a change is logged (requests meanwhile get 503 and /readyz
 * says why; the database client reconnects by itself).
 */
import type { RelayStore } from "./interface";

export function watchReadiness(store: RelayStore, log: (msg: string) => void, everyMs = 5_000): () => void {
  let ok = true;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const r = await store.readiness();
      if (ok && !r.ok) log(`database unavailable: ${r.reason}; answering 503 until it is back`);
      if (!ok && r.ok) log("database available again");
      ok = r.ok;
    } finally {
      busy = false;
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
