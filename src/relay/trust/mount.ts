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
import { TrustStore } from "./store";

export function mountTrust(app: Hono<any>, opts: { dataDir: string; baseUrl?: string; auth?: RelayAuth; mailLimits?: MailLimits; federation?: QueueTiming; log?: (msg: string) => void }): TrustStore {
  const store = new TrustStore(opts.dataDir);
  registerHandleRoutes(app, store, opts.baseUrl);
  registerNodeCardRoutes(app, store, opts.baseUrl);
  const queue = new FederationQueue(store, opts.federation ?? timingFromEnv(), opts.log);
  queue.start();
  // The queue's timer goes with the store: tests mount and close one per test.
  const close = store.close.bind(store);
  store.close = () => {
    queue.stop();
    close();
  };
  registerFederationRoutes(app, opts.baseUrl, registerMailRoutes(app, store, opts.baseUrl, opts.auth, opts.mailLimits ?? new MailLimits(), queue));
  return store;
}
