/**
 * `cw web`: the app for this machine's node, on loopback only. A person signs in by opening
 * the printed link, whose token is good once (as Jupyter's link is its way in); the browser
 * keeps a cookie from then on. Requests whose Host is not this listener's loopback address are
 * refused, so a web page cannot reach it through a DNS name rebound to 127.0.0.1.
 */
import { Hono } from "hono";
import { connectNode } from "../client/autostart";
import { NodeUnavailableError } from "../client/errors";
import type { ListenAddress } from "../node/websocket";
import { MAX_PAYLOAD } from "../protocol/frame";
import { listenerOptions, refusal } from "../sys/http";
import { newToken, sameSecret } from "../sys/secrets";
import { connectPath, LOCAL_NODE } from "./api";
import { webSocketAllowed } from "./guard";
import { newPipeState, onBrowserClose, onBrowserDrain, onBrowserMessage, type PipeState } from "./pipe";
import { registerWebRoutes, type WebBackend } from "./routes";
import { SignIns } from "./signins";

/** A printed link not used within this long stops working. */
const LINK_TTL_MS = 10 * 60 * 1000;

export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Whether a Host header names this listener: a loopback name and our port. */
function addressedToUs(host: string | null, port: number): boolean {
  try {
    const u = new URL(`http://${host}`);
    return isLoopback(u.hostname) && u.port === String(port);
  } catch {
    return false;
  }
}

export interface WebServer {
  url: string;
  /** The sign-in link: the URL with a one-time token. */
  link: string;
  stop(): void;
}

export function serveWeb(opts: { address: ListenAddress; root: string; version: string }): WebServer {
  if (!isLoopback(opts.address.hostname)) {
    throw new NodeUnavailableError(`cw web listens on loopback only, not ${opts.address.hostname}`, "from another machine, reach it through an SSH tunnel (ssh -L 8423:127.0.0.1:8423 host), or use a relay's web app");
  }
  let oneTime: string | undefined = newToken();
  const linkExpires = Date.now() + LINK_TTL_MS;
  const dial = () => connectNode(opts.root);
  const backend: WebBackend = {
    mode: "local",
    nodes: () => [{ name: LOCAL_NODE, online: true, last_seen_at: new Date().toISOString() }],
    dial: (node) => {
      if (node !== LOCAL_NODE) throw new NodeUnavailableError(`no node named ${node} here`, `cw web serves this machine's node, named ${LOCAL_NODE}`);
      return dial();
    },
    // The link's token, once: used, it is gone.
    checkCredential: (token) => {
      const ok = oneTime !== undefined && Date.now() < linkExpires && sameSecret(token, oneTime);
      if (ok) oneTime = undefined;
      return ok;
    },
  };
  const signIns = new SignIns();
  const app = new Hono();
  registerWebRoutes(app, { backend, signIns, version: opts.version, secure: false });

  let server: ReturnType<typeof Bun.serve<PipeState, never>>;
  try {
    server = listen();
  } catch (e) {
    throw new NodeUnavailableError(`cannot listen on ${opts.address.hostname}:${opts.address.port}: ${(e as Error).message}`, "another cw web (or another program) may use that port: pick another with --listen 127.0.0.1:<port>, or 127.0.0.1:0 for any free one");
  }
  const host = server.hostname ?? opts.address.hostname;
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  return { url: `${base}/`, link: `${base}/?token=${oneTime}`, stop: () => server.stop(true) };

  function listen() {
    return Bun.serve<PipeState, never>({
      hostname: opts.address.hostname,
      port: opts.address.port,
      ...listenerOptions("cw web", "try again; if it persists, run cw web in a terminal to see its log"),
      async fetch(req, srv) {
        const url = new URL(req.url);
        if (!addressedToUs(req.headers.get("host"), srv.port!)) {
          return refusal(421, "wrong_host", `cw web answers requests for 127.0.0.1:${srv.port} only`, `open http://127.0.0.1:${srv.port}/`);
        }
        if (url.pathname === connectPath(LOCAL_NODE)) {
          if (!(await webSocketAllowed(req, signIns))) return refusal(401, "unauthorized", "not signed in, or not from the web app's page", "open the link cw web printed");
          return srv.upgrade(req, { data: newPipeState() }) ? undefined : refusal(426, "upgrade_required", "this endpoint speaks WebSocket", "the web app's terminal connects here");
        }
        return app.fetch(req);
      },
      websocket: {
        // One message carries one frame's payload at most, as on the node's own listener.
        maxPayloadLength: MAX_PAYLOAD,
        open(ws) {
          ws.binaryType = "uint8array";
        },
        message(ws, msg) {
          onBrowserMessage(ws, msg as string | Uint8Array, dial);
        },
        drain: onBrowserDrain,
        close: onBrowserClose,
      },
    });
  }
}
