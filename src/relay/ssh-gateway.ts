/**
 * The relay's SSH gateway: plain `ssh` reaches a node's sessions through the relay.
 *
 *   ssh dev-1@relay -p 2222            a login shell on dev-1, as a new session (tag "ssh")
 *   ssh dev-1@relay -p 2222 'make'     runs `sh -c make` there as a session, exits with its code
 *   ssh 'dev-1:3'@relay -p 2222        attaches to session 3 (an id or a name) on dev-1
 *
 * This file is the server: connections, logins, and handing each session channel to
 * ssh-session.ts.
 *
 * Who may log in: a password that is a relay token (the admin token, a user token, or a node's
 * token for the nodes it may reach: itself, or by grant), or a public key listed in
 * `authorized_keys` next to the host key (see ssh-keys.ts), which the operator keeps and which
 * reaches every node.
 *
 * Nothing a connection does may take the relay down: every handler catches and logs its own
 * failures.
 */
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { type AuthContext, type AuthenticationType, type Connection, Server } from "ssh2";
import { periodFromEnv } from "../sys/keep-alive";
import type { RelayAuth } from "./auth";
import type { NodeHub } from "./hub";
import { describe } from "./ssh-errors";
import { SshGate } from "./ssh-gate";
import { AuthorizedKeys, loadOrCreateHostKey } from "./ssh-keys";
import { handleSession, parseSshUser } from "./ssh-session";

export interface SshGatewayOptions {
  address: { hostname: string; port: number };
  /** The ed25519 host key (OpenSSH format); made on first start, mode 0600. */
  hostKeyPath: string;
  /** The host key itself (OpenSSH format), when it is kept elsewhere than hostKeyPath. */
  hostKey?: string;
  auth: RelayAuth;
  /** Connections to nodes: the hub, or with replicas the set (a node may be held by another). */
  hub: Pick<NodeHub, "dial">;
  log: (msg: string) => void;
  /** Public keys that may log in; default `authorized_keys` next to the host key. */
  authorizedKeysPath?: string;
}

/**
 * Connections that have not logged in (ssh-gate.ts): closed after the grace (sshd's
 * LoginGraceTime, shortened: a person's ssh logs in within a second or two, a typed password
 * within this), and at most so many at once, in all and from one address.
 */
const LOGIN_GRACE_MS = periodFromEnv("CW_SSH_LOGIN_GRACE_MS", 20_000);
const MAX_PENDING = 64;
const MAX_PENDING_PER_ADDRESS = 8;
/** A client that answers no keepalive for this long is gone: its login shell is killed. */
const KEEPALIVE_MS = 30_000;
const KEEPALIVE_COUNT = 3;
/** Failed login attempts (keys offered included, as sshd's MaxAuthTries) before disconnecting. */
const MAX_AUTH_TRIES = 10;
const METHODS: AuthenticationType[] = ["publickey", "password"];

export async function startSshGateway(opts: SshGatewayOptions): Promise<{ close(): void; port: number }> {
  const { log } = opts;
  // Replicas share one host key (from the database), or ssh clients behind a load balancer
  // would see the key change from one connection to the next.
  const hostKey = opts.hostKey ?? loadOrCreateHostKey(opts.hostKeyPath, log);
  const keys = new AuthorizedKeys(opts.authorizedKeysPath ?? join(dirname(opts.hostKeyPath), "authorized_keys"), log);
  const clients = new Set<Connection>();

  // ssh2's server never listens itself: the gate listens and hands it what it admits.
  const ssh = new Server({ hostKeys: [hostKey], keepaliveInterval: KEEPALIVE_MS, keepaliveCountMax: KEEPALIVE_COUNT }, (client, info) => {
    clients.add(client);
    const peer = `${info.ip}:${info.port}`;
    try {
      handleClient(client, peer, { ...opts, keys }, () => gate.loggedIn(info.ip, info.port));
    } catch (e) {
      log(`ssh ${peer}: ${describe(e)}`);
      client.end();
    }
    client.on("close", () => clients.delete(client));
  });
  const gate = new SshGate({ graceMs: LOGIN_GRACE_MS, maxPending: MAX_PENDING, maxPendingPerAddress: MAX_PENDING_PER_ADDRESS }, log, (socket) => ssh.injectSocket(socket));
  const server = gate.server;
  // A listener that fails later (it should not) is logged, never thrown at the process.
  const onError = (e: unknown) => log(`ssh gateway: ${describe(e)}`);
  ssh.on("error", onError);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.address.port, opts.address.hostname, () => {
      server.off("error", reject);
      server.on("error", onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close() {
      gate.close();
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}

interface Deps extends SshGatewayOptions {
  keys: AuthorizedKeys;
}

function handleClient(client: Connection, peer: string, deps: Deps, loggedIn: () => void) {
  const { log } = deps;
  let user = "";
  client.on("error", (e) => log(`ssh ${peer}: ${describe(e)}`));
  let failures = 0;
  // ssh2 waits for accept or reject, so a password can be checked against the store (async).
  client.on("authentication", async (ctx) => {
    let outcome: Awaited<ReturnType<typeof authenticate>> = "rejected";
    try {
      outcome = await authenticate(ctx, deps, peer, (who) => {
        user = ctx.username;
        log(`ssh ${peer}: ${JSON.stringify(user)} logged in (${who})`);
      });
    } catch (e) {
      log(`ssh ${peer}: authentication failed: ${describe(e)}`);
    }
    if (outcome !== "rejected") return ctx.accept();
    ctx.reject(METHODS);
    if (ctx.method !== "none" && ++failures >= MAX_AUTH_TRIES) {
      log(`ssh ${peer}: too many failed logins; disconnecting`);
      client.end();
    }
  });
  const onGone: (() => void)[] = [];
  client.on("close", () => {
    for (const f of onGone.splice(0)) f();
  });
  client.on("ready", () => {
    loggedIn();
    client.on("session", (acceptSession) => {
      try {
        const session = acceptSession();
        keepSessionClassName(session);
        handleSession(session, user, peer, deps, (f) => onGone.push(f));
      } catch (e) {
        log(`ssh ${peer}: ${describe(e)}`);
      }
    });
  });
}

/**
 * ssh2 tells a session channel apart by `constructor.name === "Session"`; the release build's
 * minifier renames the class (Bun 1.4's keepNames leaves class names renamed: checked), and then
 * a channel still open when its connection closed threw in ssh2's cleanup (an sftp refused, a
 * shell on a dropped connection never ended). The class is not exported, but its first instance
 * is ours, made by accept(), before any cleanup can meet one: give the class its name back.
 */
function keepSessionClassName(session: object): void {
  const ctor = session.constructor;
  if (ctor.name !== "Session") Object.defineProperty(ctor, "name", { value: "Session", configurable: true });
}

/** Judges one login attempt; `accepted` is told who got in. A signature-less key offer is a "query". */
async function authenticate(ctx: AuthContext, deps: Deps, peer: string, accepted: (who: string) => void): Promise<"accepted" | "query" | "rejected"> {
  switch (ctx.method) {
    case "password": {
      const who = await deps.auth.identify(`Bearer ${ctx.password}`);
      if (!who) {
        deps.log(`ssh ${peer}: wrong password for ${JSON.stringify(ctx.username)}`);
        return "rejected";
      }
      // A node's token logs in only to the nodes it may reach (itself, or by grant).
      const target = parseSshUser(ctx.username);
      if (!("error" in target) && !(await deps.auth.mayReach(who, target.node))) {
        deps.log(`ssh ${peer}: the token of node ${who.kind === "node" ? who.name : "?"} may not reach ${target.node}; refused`);
        return "rejected";
      }
      accepted(who.kind === "admin" ? "password: admin token" : `password: token of ${who.kind} ${who.name}`);
      return "accepted";
    }
    case "publickey": {
      const key = deps.keys.find(ctx.key.data);
      if (!key) return "rejected";
      // Without a signature the client only asks whether this key would do.
      if (!ctx.signature || !ctx.blob) return "query";
      if (key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
        deps.log(`ssh ${peer}: bad signature from key ${key.type} ${key.comment || ""}`.trimEnd());
        return "rejected";
      }
      accepted(`publickey ${key.type}${key.comment ? ` ${key.comment}` : ""}`);
      return "accepted";
    }
    default:
      return "rejected";
  }
}
