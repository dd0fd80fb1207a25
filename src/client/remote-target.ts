/**
 * Which node a command talks to when it is not this machine's: `cw --server <name|url>` (or
 * CODEWIRE_SERVER) names a node's own WebSocket listener, `node:id` / `--node` a node reached
 * through this machine's relay. Names are looked up in servers.toml (`cw server add`); a URL
 * given directly takes its token from CODEWIRE_TOKEN. Connecting is remote.ts's job, loaded only
 * when a target was chosen, so local commands do not pay for it.
 */
import { pathsFor } from "../config/paths";
import { NodeUnavailableError } from "./errors";

export interface RemoteTarget {
  /** What the user called it: a saved name or the URL. */
  label: string;
  url: string;
  token?: string;
  /** Set when the node is reached through this machine's relay: the relay's URL. */
  relay?: string;
}

let target: RemoteTarget | undefined;
/** This machine's node, when a command named it by its relay name (it stays local). */
let namedLocal: string | undefined;

/** The remote node this process's requests go to now, if one was chosen. */
export function remoteTarget(): RemoteTarget | undefined {
  const scoped = scope?.();
  return scoped === undefined ? target : (scoped ?? undefined);
}

/** Chooses the node every later request goes to: a saved server's name, or a ws(s):// URL. */
export async function useServer(nameOrUrl: string, root: string): Promise<RemoteTarget> {
  if (target || namedLocal) throw new NodeUnavailableError("one command talks to one node", "give either --server or --node, once");
  // Loaded only here: the TOML parser and zod stay off the path of local commands.
  const { normalizeServerUrl, readServers, ConfigFileError } = await import("../config/servers");
  try {
    if (nameOrUrl.includes("://")) {
      target = { label: nameOrUrl, url: normalizeServerUrl(nameOrUrl), token: process.env.CODEWIRE_TOKEN || undefined };
      return target;
    }
    const saved = readServers(pathsFor(root).servers)[nameOrUrl];
    if (!saved) throw new NodeUnavailableError(`no saved server named ${JSON.stringify(nameOrUrl)}`, "`cw server list` shows saved servers; `cw server add <name> <url> --token <token>` saves one");
    target = { label: nameOrUrl, url: normalizeServerUrl(saved.url), token: saved.token };
    return target;
  } catch (e) {
    if (e instanceof ConfigFileError) throw new NodeUnavailableError(e.message, "fix or remove servers.toml, or pass a ws:// URL to --server");
    throw e;
  }
}

/**
 * How to reach `node` through this machine's relay: a target, or null for this machine's own
 * node (by its relay name), which the Unix socket reaches directly.
 */
export function relayTarget(node: string, root: string): RemoteTarget | null {
  // Loaded only here: the TOML parser and zod stay off the path of local commands.
  const { readRelaySettings, relayWsUrl, personToken, ConfigFileError } = require("../config/relay") as typeof import("../config/relay");
  let settings: ReturnType<typeof readRelaySettings>;
  try {
    settings = readRelaySettings(pathsFor(root).relay);
  } catch (e) {
    if (e instanceof ConfigFileError) throw new NodeUnavailableError(e.message, "fix relay.toml, or run `cw setup <relay-url>` again");
    throw e;
  }
  if (!settings) throw new NodeUnavailableError(`cannot reach node ${JSON.stringify(node)}: this machine has no relay`, "run `cw setup <relay-url>` first, or reach the node directly with --server");
  if (settings.node === node) return null;
  return { label: `${node} (via ${settings.url})`, url: relayWsUrl(settings.url, `/api/v1/nodes/${encodeURIComponent(node)}/connect`), token: personToken(settings), relay: settings.url };
}

/**
 * Chooses a node reached through this machine's relay (`cw list dev-1`, `cw attach dev-1:3`).
 * This machine's own node name means the local node. One command talks to one node.
 */
export function useRelayNode(node: string, root: string): void {
  const chosen = relayTarget(node, root);
  const label = chosen?.label ?? `${node} (this machine)`;
  const already = target?.label ?? namedLocal;
  if (already !== undefined && already !== label) throw new NodeUnavailableError(`one command talks to one node; this one names ${already} and ${label}`, "run one command per node");
  if (chosen) target = chosen;
  else namedLocal = label;
}

/**
 * A narrower choice for part of the process (an MCP tool call with a `node` argument): while
 * `scope` returns a target (or null for this machine's node), it wins over the command's.
 */
let scope: (() => RemoteTarget | null | undefined) | undefined;
export function setTargetScope(fn: () => RemoteTarget | null | undefined): void {
  scope = fn;
}
