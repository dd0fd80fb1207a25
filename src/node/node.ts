/**
 * `cw node`: assembles the daemon (data dir, lock, config, sessions, screen worker, socket) and
 * runs it until stopped.
 */
import { appendFileSync, chmodSync, mkdirSync, renameSync, statSync } from "node:fs";
import { loadConfig } from "../config/config";
import { dataDir, pathsFor } from "../config/paths";
import { readRelaySettings } from "../config/relay";
import { RelayClient } from "../client/relay-client";
import { VERSION } from "../version";
import type { NodeContext } from "./context";
import { EventBus } from "./events";
import { KvStore } from "../store/kv-store";
import { Messaging } from "./messaging/service";
import { MessageStore } from "./messaging/store";
import { startPeers } from "./peers/start";
import { acquirePidFile } from "./pidfile";
import { effectiveBackend } from "./pty/pty";
import { Lanes } from "./lane/lanes";
import { Screens } from "./screen/screens";
import { listen } from "./server";
import { Sessions } from "./sessions";
import { RelayAgent } from "./relay-agent";
import { forgetNodeRuntimeEnv } from "./runtime-env";
import { loadOrCreateToken } from "./token";
import { listenWebSocket, parseListenAddress, WS_PATH } from "./websocket";

/** node.log is kept below this size: at start, a bigger one becomes node.log.1. */
const NODE_LOG_MAX = 5 * 1024 * 1024;

function rotateNodeLog(path: string) {
  try {
    if (statSync(path).size > NODE_LOG_MAX) renameSync(path, `${path}.1`);
  } catch {
    /* no log yet */
  }
}

/** relay.toml for the peers, which must not fail on a broken file (the relay agent logs that). */
function readRelaySettingsQuietly(path: string, log: (msg: string) => void) {
  try {
    return readRelaySettings(path);
  } catch (e) {
    log(`peer: ${(e as Error).message}`);
    return undefined;
  }
}

/** How long running programs get to exit when the node stops. */
const STOP_GRACE_MS = 3000;

export async function runNode(opts: { foreground: boolean }): Promise<void> {
  forgetNodeRuntimeEnv();
  const paths = pathsFor(dataDir());
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  chmodSync(paths.root, 0o700);
  let release: () => void;
  try {
    release = acquirePidFile(paths.pid);
  } catch (e) {
    appendFileSync(paths.nodeLog, `${new Date().toISOString()} cannot start: ${(e as Error).message}\n`, { mode: 0o600 });
    throw e;
  }

  rotateNodeLog(paths.nodeLog);
  const log = (msg: string) => {
    const line = `${new Date().toISOString()} ${msg}\n`;
    try {
      appendFileSync(paths.nodeLog, line, { mode: 0o600 });
    } catch {
      /* a full disk must not stop the node */
    }
    if (opts.foreground) process.stderr.write(line);
  };
  // Nothing a client sends, and no bug in one request, may take the node (and every session) down.
  process.on("uncaughtException", (e) => log(`uncaught: ${e.stack ?? e}`));
  process.on("unhandledRejection", (e) => log(`unhandled rejection: ${(e as Error)?.stack ?? e}`));

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(paths.config);
  } catch (e) {
    // Say why in node.log too: a node started in the background has no terminal to tell.
    log(`cannot start: ${(e as Error).message.replace(/\s*\n\s*/g, " | ")}`);
    release();
    throw e;
  }
  const events = new EventBus(log);
  const screens = new Screens(config.historyLines, log);
  const sessions = new Sessions(paths, config, events, screens, log);
  const messaging = new Messaging(new MessageStore(paths.messages), sessions, events, screens);
  const kv = new KvStore(paths.kv);
  let trust: ReturnType<typeof startPeers>;
  try {
    trust = startPeers(paths.root, { messaging, sessions, log, relay: () => readRelaySettingsQuietly(paths.relay, log) });
  } catch (e) {
    // A key file that cannot be read is not replaced with a new key (that would be a new identity).
    log(`cannot start: the node's identity (identity.pem): ${(e as Error).message}`);
    release();
    throw e;
  }

  let stopping = false;
  let relayAgent: RelayAgent | undefined;
  let relayApi: RelayClient | undefined;
  const startRelay = () => {
    try {
      const settings = readRelaySettings(paths.relay);
      const same = relayAgent && settings && JSON.stringify(relayAgent.settings) === JSON.stringify(settings);
      if (same) return relayAgent!.status; // already on its way with these settings
      relayAgent?.stop();
      relayAgent = undefined;
      relayApi = undefined;
      if (settings) {
        relayAgent = new RelayAgent(settings, ctx);
        relayAgent.start();
        relayApi = new RelayClient(settings.url, settings.token);
      }
    } catch (e) {
      // A broken relay.toml costs remote access, not the local node.
      log(`relay: ${(e as Error).message}`);
    }
    return relayAgent?.status ?? null;
  };
  const ctx: NodeContext = {
    paths,
    config,
    sessions,
    events,
    screens,
    lanes: new Lanes(log),
    messaging,
    peers: trust.peers,
    kv,
    log,
    shutdown: (reason) => void stop(reason),
    stopping: () => stopping,
    relay: { status: () => relayAgent?.status ?? null, reconnect: startRelay, api: () => relayApi },
  };
  const server = listen(paths.socket, ctx);
  log(`node ${VERSION} listening on ${paths.socket} (pid ${process.pid})`);
  const pty = effectiveBackend(config.pty);
  log(`terminals: ${pty === "bun" ? "Bun's own PTY" : "bun-pty"}${pty !== config.pty ? ` (${config.pty} is not available in this Bun)` : ""}`);
  let remote: ReturnType<typeof listenWebSocket> | undefined;
  if (config.listen) {
    try {
      const address = parseListenAddress(config.listen);
      remote = listenWebSocket(address, loadOrCreateToken(paths.token), ctx);
      log(`listening for remote clients on ws://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${remote.port}${WS_PATH} (token in ${paths.token})`);
    } catch (e) {
      log(`cannot start: cannot listen on ${config.listen}: ${(e as Error).message}`);
      server.stop(true);
      release();
      throw e;
    }
  }

  startRelay();

  async function stop(reason: string) {
    if (stopping) return;
    stopping = true;
    log(`stopping: ${reason}`);
    // No new clients; those attached stay connected until their sessions have ended, so they
    // hear why (AttachEnded node_stopping) instead of losing the connection.
    server.stop(false);
    remote?.stop(true);
    relayAgent?.drain();
    const running = sessions.running();
    await Promise.race([
      Promise.all(running.map((s) => new Promise<void>((r) => (s.onExit(r), s.kill("hangup", STOP_GRACE_MS - 500))))),
      Bun.sleep(STOP_GRACE_MS),
    ]);
    for (const s of sessions.running()) s.markLost();
    relayAgent?.stop();
    sessions.saveNow();
    trust.stop();
    // Senders whose messages are stored but not yet flushed hear "sent" before the node goes.
    await messaging.store.settled();
    messaging.store.close();
    kv.close();
    screens.terminate();
    release();
    log("stopped");
    process.exit(0);
  }
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => void stop(sig));
  await new Promise(() => {});
}
