/**
 * Why a WebSocket to a remote node (or through a relay) would not open, asked of the server over
 * plain HTTP: a wrong or missing token, no such node, a node offline, nothing there at all.
 * Loaded only on that failure.
 */
import { NodeUnavailableError } from "./errors";
import type { RemoteTarget } from "./remote-target";

const TIMEOUT_MS = 10_000;

/** Why a WebSocket would not open, asked of the server over plain HTTP. */
export async function diagnose(t: RemoteTarget): Promise<NodeUnavailableError> {
  const http = t.url.replace(/^ws/, "http");
  try {
    const res = await fetch(http, { headers: t.token ? { Authorization: `Bearer ${t.token}` } : {}, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (res.status === 401 && t.relay) {
      return new NodeUnavailableError(
        `the relay ${t.relay} refused this machine's token`,
        "it was revoked or rotated, or the node removed: run `cw setup <relay-url>` again (with the admin token for a user token that reaches every node)",
      );
    }
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
    if (t.relay) return new NodeUnavailableError(`cannot reach the relay at ${t.relay}: ${why}`, "check that `cw relay` runs there and that its address is reachable from here; nodes reconnect by themselves when it is back");
    return new NodeUnavailableError(`cannot reach ${t.label} at ${t.url}: ${why}`, "check that the node runs with `listen` set in its config.toml (or CODEWIRE_LISTEN) and that the address is reachable from here");
  }
}
