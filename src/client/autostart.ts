/**
 * Reaching the local node, starting it first when nobody answers (every command but `node`
 * does this), and saying clearly why when it cannot be started.
 */
import { pathsFor } from "../config/paths";
import { selfCommand } from "../sys/self";
import { NodeConnection } from "./connection";
import { NodeUnavailableError } from "./errors";
import { remoteTarget } from "./remote-target";

const START_DEADLINE_MS = 10_000;


async function tryConnect(socket: string): Promise<NodeConnection | undefined> {
  try {
    return await NodeConnection.open(socket);
  } catch {
    return undefined;
  }
}

/** A node process we started; `exited` is set if it quit (e.g. a bad config). */
export interface StartedNode {
  exited: boolean;
}

/** Starts `cw node` in the background, detached from this terminal. */
export function spawnNode(root: string): StartedNode {
  // Loaded here, not at the top: node:child_process and node:fs cost a compiled binary ~2 ms at
  // start-up, and only the first command after boot starts a node.
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  const { mkdirSync } = require("node:fs") as typeof import("node:fs");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const [cmd, ...args] = selfCommand();
  const child = spawn(cmd!, [...args, "node"], { detached: true, stdio: "ignore", env: { ...process.env, CODEWIRE_HOME: root } });
  const started = { exited: false };
  child.on("exit", () => {
    started.exited = true;
  });
  child.unref();
  return started;
}

export async function waitForNode(root: string, started?: StartedNode, deadlineMs = START_DEADLINE_MS): Promise<NodeConnection> {
  const paths = pathsFor(root);
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const c = await tryConnect(paths.socket);
    if (c) return c;
    // Another client may have started the node at the same moment; ours then exits at once,
    // so keep polling the socket briefly before calling it a failure.
    if (started?.exited && Date.now() > until - deadlineMs + 1000) break;
    await Bun.sleep(15);
  }
  let tail = "";
  try {
    const { readFileSync } = require("node:fs") as typeof import("node:fs");
    tail = readFileSync(paths.nodeLog, "utf8").trim().split("\n").slice(-3).join("\n");
  } catch {
    /* no log yet */
  }
  const what = started?.exited ? "the node exited while starting" : `the node did not start within ${deadlineMs / 1000}s`;
  throw new NodeUnavailableError(`${what}${tail ? `; its log ends with:\n${tail}` : ""}`, `run \`cw node\` in a terminal to see why (log: ${paths.nodeLog})`);
}

/**
 * A connection to the node the command is for: the remote one chosen with `--server`, or else
 * the node of `root`, starting the node if needed (unless autoStart is false).
 */
export async function connectNode(root: string, autoStart = true): Promise<NodeConnection> {
  const remote = remoteTarget();
  if (remote) {
    try {
      return await NodeConnection.openWebSocket(remote.url, remote.token, remote.label);
    } catch {
      throw await (await import("./remote-diagnose")).diagnose(remote);
    }
  }
  const paths = pathsFor(root);
  const c = await tryConnect(paths.socket);
  if (c) return c;
  if (!autoStart) throw new NodeUnavailableError(`no node is running for ${root}`, "start one with `cw start`");
  return waitForNode(root, spawnNode(root));
}
