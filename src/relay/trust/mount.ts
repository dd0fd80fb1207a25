/**
 * Handles, cards and peer mail on a relay: opens their store in the relay's data dir and adds
 * their routes to the relay's app (after app.ts's own, so its /api middleware identifies callers).
 */
import type { Hono } from "hono";
import { registerHandleRoutes } from "../routes/handles";
import { registerFederationRoutes } from "../routes/federation";
import { registerMailRoutes } from "../routes/mail";
import { registerNodeCardRoutes } from "../routes/node-cards";
import type { RelayAuth } from "../auth";
import { MailLimits } from "./mail-limits";
import { FederationQueue, type QueueTiming, timingFromEnv } from "./outbound";
import type { RelayTrust } from "../store/trust";
import { SqliteTrust } from "../store/sqlite-trust";

/**
 * `trust`: the relay store's (store/trust.ts openTrust: PostgreSQL shared by replicas, or
 * trust.db); without it, trust.db in `dataDir` (tests of these routes alone).
 */
export function mountTrust(app: Hono<any>, opts: { dataDir: string; trust?: RelayTrust; baseUrl?: string; auth?: RelayAuth; mailLimits?: MailLimits; federation?: QueueTiming; log?: (msg: string) => void }): RelayTrust {
  const store = opts.trust ?? new SqliteTrust(opts.dataDir);
  registerHandleRoutes(app, store, opts.baseUrl);
  registerNodeCardRoutes(app, store, opts.baseUrl);
  const queue = new FederationQueue(store, opts.federation ?? timingFromEnv(), opts.log);
  queue.start();
  // The queue's timer goes with the store: tests mount and close one per test.
  const close = store.close.bind(store);
  store.close = async () => {
    queue.stop();
    await close();
  };
  registerFederationRoutes(app, opts.baseUrl, registerMailRoutes(app, store, opts.baseUrl, opts.auth, opts.mailLimits ?? new MailLimits(), queue));
  return store;
}
