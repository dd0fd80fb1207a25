/**
 * The web app on a relay: every registered node with online/offline and when it was last seen,
 * each reached through the hub as the SSH gateway reaches it, and sign-in with a person's
 * token (today the relay's admin token; a node's token never signs in a browser).
 */
import type { NodeConnection } from "../client/connection";
import { NodeError } from "../client/errors";
import type { RelayAuth } from "../relay/auth";
import type { RelayStore } from "../relay/store";
import type { WebDeps } from "./routes";
import { StoredCodeSignIns, StoredSignIns } from "./relay-signins";

export interface RelayWebDeps {
  store: RelayStore;
  auth: RelayAuth;
  hub: { isConnected(name: string): boolean; dial(name: string): NodeConnection };
  version: string;
  baseUrl?: string;
}

export function relayWeb(d: RelayWebDeps): WebDeps {
  return {
    // In the store, not this process: every replica of the relay knows every sign-in.
    signIns: new StoredSignIns(d.store.webSignIns),
    codes: new StoredCodeSignIns(d.store.webSignIns),
    version: d.version,
    // Behind a TLS proxy the relay itself sees http: its public URL says how browsers reach it.
    secure: d.baseUrl?.startsWith("https:") ?? false,
    backend: {
      mode: "relay",
      nodes: async () => (await d.store.listNodes()).map((n) => ({ name: n.name, online: d.hub.isConnected(n.name), last_seen_at: n.last_seen_at })),
      dial: async (name) => {
        if (!(await d.store.hasNode(name))) throw new NodeError("not_found", `no node named ${name} is registered with this relay`, "the dashboard lists the registered nodes");
        return d.hub.dial(name);
      },
      checkCredential: async (token) => {
        const who = await d.auth.identify(`Bearer ${token}`);
        return who !== null && who.kind !== "node";
      },
    },
  };
}
