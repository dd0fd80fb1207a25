/**
 * `cw relay`: the store, the admin token, the hub, the HTTP API and (optionally) the SSH
 * gateway, started together and stopped together.
 */
import { join } from "node:path";
import { parseListenAddress } from "../node/websocket";
import { periodFromEnv } from "../sys/keep-alive";
import { VERSION } from "../version";
import { webSocketAllowed } from "../web/guard";
import { SignIns } from "../web/signins";
import { createRelayApp } from "./app";
import { ensureAdminToken, type NodeAccess, RelayAuth } from "./auth";
import { NodeHub } from "./hub";
import { serveRelay } from "./server";
import { RelayStore } from "./store";
import { mountTrust } from "./trust/mount";

/** The relay pings each node this often and marks one silent for three periods offline. */
const NODE_PING_MS = 3_000;

export interface RelayOptions {
  dataDir: string;
  listen: string;
  /** "off" for no SSH gateway. */
  sshListen: string;
  baseUrl?: string;
  /** CW_AUTH_TOKEN: the operator's admin token, kept in memory only. */
  authToken?: string;
  /** Whether node tokens reach other nodes without a grant (auth.ts). */
  nodeAccess?: NodeAccess;
  log: (msg: string) => void;
}

export async function runRelay(opts: RelayOptions) {
  const { log } = opts;
  // Every handler catches its own failures; one that escapes them is a bug, logged with its
  // stack where the operator looks, rather than a silent half-state or the relay gone for all.
  process.on("uncaughtException", (e) => log(`unexpected error (a bug; please report it): ${(e as Error)?.stack ?? String(e)}`));
  process.on("unhandledRejection", (e) => log(`unexpected error in a promise (a bug; please report it): ${(e as Error)?.stack ?? String(e)}`));
  const store = new RelayStore(opts.dataDir);
  if (opts.authToken && opts.authToken.length < 24) log("warning: CW_AUTH_TOKEN is short enough to guess; make one with: openssl rand -hex 32");
  const { generated } = ensureAdminToken(store, opts.authToken);
  const auth = new RelayAuth(store, opts.authToken, opts.nodeAccess ?? "none");
  const hub = new NodeHub(log);
  hub.startPinging(periodFromEnv("CW_RELAY_NODE_PING_MS", NODE_PING_MS));
  const webSignIns = new SignIns();
  const app = createRelayApp({ store, kv: store.kv, auth, hub, version: VERSION, webSignIns, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  mountTrust(app, { dataDir: opts.dataDir, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  let http: ReturnType<typeof serveRelay>;
  try {
    http = serveRelay({ address: parseListenAddress(opts.listen), auth, store, hub, fetch: (req, ip) => app.fetch(req, { ip }), webSocketAllowed: (req) => webSocketAllowed(req, webSignIns) });
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
