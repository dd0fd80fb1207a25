/**
 * `cw relay`: the store, the admin token, the hub, the HTTP API and (optionally) the SSH
 * gateway, started together and stopped together.
 */
import { join } from "node:path";
import { parseListenAddress } from "../node/websocket";
import { VERSION } from "../version";
import { createRelayApp } from "./app";
import { ensureAdminToken, RelayAuth } from "./auth";
import { NodeHub } from "./hub";
import { serveRelay } from "./server";
import { RelayStore } from "./store";
import { mountTrust } from "./trust/mount";

export interface RelayOptions {
  dataDir: string;
  listen: string;
  /** "off" for no SSH gateway. */
  sshListen: string;
  baseUrl?: string;
  /** CW_AUTH_TOKEN: the operator's admin token, kept in memory only. */
  authToken?: string;
  log: (msg: string) => void;
}

export async function runRelay(opts: RelayOptions) {
  const { log } = opts;
  const store = new RelayStore(opts.dataDir);
  if (opts.authToken && opts.authToken.length < 24) log("warning: CW_AUTH_TOKEN is short enough to guess; make one with: openssl rand -hex 32");
  const { generated } = ensureAdminToken(store, opts.authToken);
  const auth = new RelayAuth(store, opts.authToken);
  const hub = new NodeHub(log);
  const app = createRelayApp({ store, kv: store.kv, auth, hub, version: VERSION, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  mountTrust(app, { dataDir: opts.dataDir, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  let http: ReturnType<typeof serveRelay>;
  try {
    http = serveRelay({ address: parseListenAddress(opts.listen), auth, store, hub, fetch: (req) => app.fetch(req) });
  } catch (e) {
    store.close();
    throw new Error(`cannot listen on ${opts.listen}: ${(e as Error).message}`);
  }
  const base = opts.baseUrl ?? `http://${http.hostname}:${http.port}`;
  log(`relay ${VERSION} listening on http://${http.hostname}:${http.port} (data in ${opts.dataDir})`);
  let ssh: { close(): void; port: number } | undefined;
  if (opts.sshListen !== "off") {
    const { startSshGateway } = await import("./ssh-gateway");
    const address = parseListenAddress(opts.sshListen);
    const gateway = await startSshGateway({ address, hostKeyPath: join(opts.dataDir, "ssh_host_ed25519_key"), auth, hub, log });
    ssh = gateway;
    log(`SSH gateway listening on ${address.hostname}:${gateway.port} (ssh <node>@host -p ${gateway.port})`);
  }
  if (generated) {
    log(`admin token (shown once; only its hash is kept): ${generated}`);
    log(`register a node with: cw setup ${base} --token <admin token>`);
  }
  const stop = () => {
    log("relay stopping");
    http.stop(true);
    ssh?.close();
    store.close();
    process.exit(0);
  };
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, stop);
  await new Promise(() => {});
}
