/**
 * `cw relay`: the store, the admin token, the hub, the HTTP API and (optionally) the SSH
 * gateway, started together and stopped together.
 */
import { join } from "node:path";
import { parseListenAddress } from "../node/websocket";
import { periodFromEnv } from "../sys/keep-alive";
import { VERSION } from "../version";
import { webSocketAllowed } from "../web/guard";
import { StoredSignIns } from "../web/relay-signins";
import { createRelayApp } from "./app";
import { ensureAdminToken, type NodeAccess, RelayAuth } from "./auth";
import { NodeHub } from "./hub";
import { serveRelay } from "./server";
import { openRelayStore, redactUrl, type RelayStore } from "./store";
import { mountTrust } from "./trust/mount";
import { openTrust } from "./store/trust";
import { RelayStartError } from "./errors";
import { REPLICA_SECRET_MIN, Replicas } from "./replicas";
import { PostgresRelayStore } from "./store/postgres";
import { watchReadiness } from "./store/watch";

/** The relay pings each node this often and marks one silent for three periods offline. */
const NODE_PING_MS = 3_000;
/** Expired KV keys are swept this often. */
const KV_SWEEP_MS = 60_000;
/** The database is checked this often, to log when it goes and comes back. */
const DB_CHECK_MS = 5_000;
/** Replicas beat this often; one silent for three beats is taken for dead. */
const REPLICA_HEARTBEAT_MS = 2_000;

export interface RelayOptions {
  dataDir: string;
  listen: string;
  /** "off" for no SSH gateway. */
  sshListen: string;
  baseUrl?: string;
  /** CW_AUTH_TOKEN: the operator's admin token, kept in memory only. */
  authToken?: string;
  /** A PostgreSQL URL (--database, CW_DATABASE_URL); without it, SQLite in the data directory. */
  databaseUrl?: string;
  /**
   * CW_REPLICA_SECRET: shared by the replicas of one relay on one PostgreSQL database; with it,
   * this relay joins them (replicas.ts).
   */
  replicaSecret?: string;
  /** The URL the other replicas reach this one at (--replica-url, CW_REPLICA_URL); default: the listen address. */
  replicaUrl?: string;
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
  const where = opts.databaseUrl ? `database ${redactUrl(opts.databaseUrl)}` : `data in ${opts.dataDir}`;
  let store: RelayStore;
  try {
    store = await openRelayStore({ dataDir: opts.dataDir, ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}), log });
  } catch (e) {
    if (e instanceof RelayStartError) throw e;
    throw new RelayStartError(
      `cannot open the relay's store (${where}): ${(e as Error).message}`,
      opts.databaseUrl ? "check the URL, that PostgreSQL runs and answers there (pg_isready), and that the user may create tables in that database" : "check that the data dir is writable by this user and the disk is not full",
    );
  }
  if (opts.authToken && opts.authToken.length < 24) log("warning: CW_AUTH_TOKEN is short enough to guess; make one with: openssl rand -hex 32");
  const { generated } = await ensureAdminToken(store, opts.authToken);
  const auth = new RelayAuth(store, opts.authToken, opts.nodeAccess ?? "none");
  const hub = new NodeHub(log);
  hub.startPinging(periodFromEnv("CW_RELAY_NODE_PING_MS", NODE_PING_MS));
  const replicas = await joinReplicas(opts, store, hub);
  // The web app's sign-ins live in the store, so a browser signed in on one replica is on all.
  const webSignIns = new StoredSignIns(store.webSignIns);
  // With replicas, "connected" and "disconnect" mean anywhere in the set.
  const app = createRelayApp({ store, kv: store.kv, auth, hub: replicas ?? hub, version: VERSION, web: true, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  const trust = await openTrust(store, opts.dataDir);
  mountTrust(app, { dataDir: opts.dataDir, trust, auth, log, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  let http: ReturnType<typeof serveRelay>;
  try {
    http = serveRelay({ address: parseListenAddress(opts.listen), auth, store, hub, ...(replicas ? { replicas } : {}), fetch: (req, ip) => app.fetch(req, { ip }), routes: { "/api/v1/kv/*": (req) => app.fetch(req) }, webSocketAllowed: (req) => webSocketAllowed(req, webSignIns) });
  } catch (e) {
    await store.close();
    throw new Error(`cannot listen on ${opts.listen}: ${(e as Error).message}`);
  }
  const base = opts.baseUrl ?? `http://${http.hostname}:${http.port}`;
  log(`relay ${VERSION} listening on http://${http.hostname}:${http.port} (${where})`);
  if (replicas) {
    const host = http.hostname ?? "";
    if (!opts.replicaUrl && (host === "0.0.0.0" || host === "::" || host === "")) {
      throw new RelayStartError(`listening on ${host || "every address"}, this replica does not know the URL the others reach it at`, "set CW_REPLICA_URL (or --replica-url), e.g. http://<pod IP>:8080, or listen on a specific address", true);
    }
    await replicas.start(opts.replicaUrl ?? `http://${host.includes(":") ? `[${host}]` : host}:${http.port}`);
  } else if (store.engine === "postgres") log("running as the only replica: set the same CW_REPLICA_SECRET on every replica to run several on this database");
  let ssh: { close(): void; port: number } | undefined;
  if (opts.sshListen !== "off") {
    const { startSshGateway } = await import("./ssh-gateway");
    const address = parseListenAddress(opts.sshListen);
    const { newHostKey } = await import("./ssh-keys");
    const hostKey = store instanceof PostgresRelayStore ? await store.sharedHostKey(newHostKey) : undefined;
    const gateway = await startSshGateway({ address, hostKeyPath: join(opts.dataDir, "ssh_host_ed25519_key"), ...(hostKey ? { hostKey } : {}), auth, hub: replicas ?? hub, log });
    ssh = gateway;
    log(`SSH gateway listening on ${address.hostname}:${gateway.port} (ssh <node>@host -p ${gateway.port})`);
  }
  if (generated) {
    log(`admin token (shown once; only its hash is kept): ${generated}`);
    log(`register a node with: cw setup ${base} --token <admin token>`);
  }
  // Expired keys are never returned; this only frees their space, through the expiry index.
  const sweeper = setInterval(() => store.kv.sweep().catch((e) => log(`kv sweep failed: ${(e as Error).message}`)), KV_SWEEP_MS);
  sweeper.unref();
  const unwatch = watchReadiness(store, log, periodFromEnv("CW_RELAY_DB_CHECK_MS", DB_CHECK_MS));
  const stop = async () => {
    log("relay stopping");
    clearInterval(sweeper);
    unwatch();
    await replicas?.stop();
    http.stop(true);
    ssh?.close();
    await store.close().catch(() => {});
    process.exit(0);
  };
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, stop);
  await new Promise(() => {});
}

/**
 * A relay on PostgreSQL with CW_REPLICA_SECRET joins the replica set on that database; one
 * without it runs alone (on SQLite it has to).
 */
async function joinReplicas(opts: RelayOptions, store: RelayStore, hub: NodeHub): Promise<Replicas | undefined> {
  if (!opts.replicaSecret) return undefined;
  if (!(store instanceof PostgresRelayStore)) throw new RelayStartError("CW_REPLICA_SECRET is set, but this relay keeps its state in SQLite", "replicas share one PostgreSQL database: give --database postgres://… (or CW_DATABASE_URL) too, or unset CW_REPLICA_SECRET", true);
  if (opts.replicaSecret.length < REPLICA_SECRET_MIN) throw new RelayStartError(`CW_REPLICA_SECRET is shorter than ${REPLICA_SECRET_MIN} characters`, "make one with: openssl rand -hex 32, and give every replica the same", true);
  return new Replicas({ sql: store.client, hub, secret: opts.replicaSecret, heartbeatMs: periodFromEnv("CW_REPLICA_HEARTBEAT_MS", REPLICA_HEARTBEAT_MS), log: opts.log });
}
