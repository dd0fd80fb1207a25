/**
 * Talking to a node on another machine: `cw --server <name|url> <command>` (or CODEWIRE_SERVER)
 * sends every request of the command over a WebSocket to that node's listener instead of the
 * local Unix socket. Names are looked up in servers.toml (`cw server add`); a URL given directly
 * takes its token from CODEWIRE_TOKEN.
 */
import { pathsFor } from "../config/paths";
import { FramesToMessages, messageToFrame } from "../protocol/ws-messages";
import { NodeConnection } from "./connection";
import { NodeUnavailableError } from "./errors";

const CONNECT_TIMEOUT_MS = 10_000;

export interface RemoteTarget {
  /** What the user called it: a saved name or the URL. */
  label: string;
  url: string;
  token?: string;
}

let target: RemoteTarget | undefined;
/** This machine's node, when a command named it by its relay name (it stays local). */
let namedLocal: string | undefined;

/** The remote node this process's commands go to, if one was chosen. */
export function remoteTarget(): RemoteTarget | undefined {
  return target;
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
 * Chooses a node reached through this machine's relay (`cw list dev-1`, `cw attach dev-1:3`).
 * This machine's own node name means the local node. One command talks to one node.
 */
export function useRelayNode(node: string, root: string): void {
  // Loaded only here: the TOML parser and zod stay off the path of local commands.
  const { readRelaySettings, relayWsUrl, ConfigFileError } = require("../config/relay") as typeof import("../config/relay");
  let settings: ReturnType<typeof readRelaySettings>;
  try {
    settings = readRelaySettings(pathsFor(root).relay);
  } catch (e) {
    if (e instanceof ConfigFileError) throw new NodeUnavailableError(e.message, "fix relay.toml, or run `cw setup <relay-url>` again");
    throw e;
  }
  if (!settings) throw new NodeUnavailableError(`cannot reach node ${JSON.stringify(node)}: this machine has no relay`, "run `cw setup <relay-url>` first, or reach the node directly with --server");
  const label = `${node} (via ${settings.url})`;
  const already = target?.label ?? namedLocal;
  if (already !== undefined && already !== label) throw new NodeUnavailableError(`one command talks to one node; this one names ${already} and ${label}`, "run one command per node");
  if (settings.node === node) {
    // This machine's own node: the Unix socket is the short way to it.
    namedLocal = label;
    return;
  }
  target = { label, url: relayWsUrl(settings.url, `/api/v1/nodes/${encodeURIComponent(node)}/connect`), token: settings.token };
}

export async function connectRemote(t: RemoteTarget): Promise<NodeConnection> {
  try {
    return await openWebSocket(t);
  } catch {
    throw await diagnose(t);
  }
}

function openWebSocket(t: RemoteTarget): Promise<NodeConnection> {
  return new Promise((resolve, reject) => {
    // Bun's WebSocket takes headers, which is how the token travels (never in the URL, where
    // proxies would log it).
    const ws = new WebSocket(t.url, { headers: t.token ? { Authorization: `Bearer ${t.token}` } : {} } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    let conn: NodeConnection | undefined;
    const out = new FramesToMessages();
    const timer = setTimeout(() => ws.close(), CONNECT_TIMEOUT_MS);
    ws.onopen = () => {
      clearTimeout(timer);
      conn = new NodeConnection({
        write(bytes) {
          for (const m of out.push(bytes)) ws.send(m);
          return bytes.length;
        },
        end: () => ws.close(1000),
        pause() {},
        resume() {},
      });
      resolve(conn);
    };
    ws.onmessage = (ev) => conn?.received(messageToFrame(typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data as ArrayBuffer)));
    ws.onclose = (ev) => {
      clearTimeout(timer);
      if (conn) conn.closed(ev.code === 1000 || ev.code === 1005 ? undefined : new NodeUnavailableError(`the connection to ${t.label} broke (${ev.code}${ev.reason ? ` ${ev.reason}` : ""})`, "try again; check the network and that the node still runs"));
      else reject(new Error("closed before open"));
    };
  });
}

/** Why a WebSocket would not open, asked of the server over plain HTTP. */
async function diagnose(t: RemoteTarget): Promise<NodeUnavailableError> {
  const http = t.url.replace(/^ws/, "http");
  try {
    const res = await fetch(http, { headers: t.token ? { Authorization: `Bearer ${t.token}` } : {}, signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) });
    if (res.status === 401) {
      return new NodeUnavailableError(`${t.label} refused the token`, t.token ? "the token is wrong: copy it again from ~/.codewire/token on that machine (`cw server add` replaces a saved one)" : "no token was given: save one with `cw server add <name> <url> --token <token>` or set CODEWIRE_TOKEN");
    }
    const body = (await res.json().catch(() => null)) as { message?: unknown; hint?: unknown } | null;
    // A relay explains itself (node offline, bad name): pass its words on.
    if (typeof body?.message === "string") return new NodeUnavailableError(`${t.label}: ${body.message}`, typeof body.hint === "string" ? body.hint : undefined);
    if (res.status === 404) return new NodeUnavailableError(`${t.url} is not a codewire node's endpoint (HTTP 404)`, "the node listens on /ws; check the URL");
    return new NodeUnavailableError(`${t.label} did not accept a WebSocket (HTTP ${res.status})`, "check that the URL points at a codewire node (`listen` in its config.toml)");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = (e as Error).name === "TimeoutError" ? "no answer" : code === "ECONNREFUSED" ? "connection refused" : code === "ENOTFOUND" || code === "EAI_AGAIN" ? "unknown host" : (e as Error).message;
    return new NodeUnavailableError(`cannot reach ${t.label} at ${t.url}: ${why}`, "check that the node runs with `listen` set in its config.toml (or CODEWIRE_LISTEN) and that the address is reachable from here");
  }
}
