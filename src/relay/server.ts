/**
 * The relay's listener: one Bun.serve for the HTTP API (app.ts, Hono), the nodes' agents
 * (`/node/connect`) and clients reaching a node (`/api/v1/nodes/<name>/connect`), whose
 * WebSocket is piped to a stream on that node's agent (its messages become frames on the way in
 * and frames become messages on the way out; their content is not looked at).
 */
import type { Server } from "bun";
import { MAX_PAYLOAD } from "../protocol/frame";
import { FramesToMessages, messageToFrame } from "../protocol/ws-messages";
import { NODE_NAME_RE } from "../protocol/constants";
import type { ListenAddress } from "../node/websocket";
import { listenerOptions, refusal } from "../sys/http";
import type { Identity, RelayAuth } from "./auth";
import type { NodeHub, Stream } from "./hub";
import { FLOW_ACK, FLOW_HEADER, FLOW_HELLO, FLOW_WINDOW, flowLength, pipeToReplica, type ReplicaPipe, type Replicas } from "./replicas";
import { type RelayStore, StoreUnavailableError } from "./store/interface";

/**
 * A client whose WebSocket holds more than this is paused at the node (through the replica
 * holding it, when the client is piped there).
 */
const CLIENT_HIGH_WATER = 1024 * 1024;
const CLIENT_LOW_WATER = 256 * 1024;

type Socket =
  | { kind: "agent"; name: string; touched?: number }
  | {
      kind: "client";
      node: string;
      stream?: Stream;
      out: FramesToMessages;
      /** This socket holds too much (paused); the far replica is a window behind (held). */
      paused: boolean;
      held?: boolean;
      /** Another replica piping a client, which acknowledges what it consumed (replicas.ts FLOW_*). */
      flow?: { sent: number; acked: number };
    }
  | { kind: "proxy"; node: string; url: string; pipe?: ReplicaPipe; paused: boolean };

export interface RelayServerDeps {
  address: ListenAddress;
  auth: RelayAuth;
  store: RelayStore;
  hub: NodeHub;
  /** With several replicas: where the nodes held elsewhere are, and the way to them. */
  replicas?: Replicas;
  /** The HTTP API; `ip` is the peer's address. */
  fetch: (req: Request, ip: string | undefined) => Response | Promise<Response>;
  /** A browser signed in to the web app (its cookie, from the app's origin) may connect as a client. */
  webSocketAllowed?: (req: Request) => Promise<boolean>;
  /**
   * Paths Bun matches natively and answers before `fetch`, without its URL parsing and peer
   * lookup (~6 us of CPU a request): the key-value store's, the busiest (relay.ts).
   */
  routes?: Record<string, (req: Request) => Response | Promise<Response>>;
}

/** Who a browser signed in to the web app is: its sign-in took the admin token or a user's. */
const WEB_PERSON: Identity = { kind: "user", name: "web" };

/** How often a node's traffic may move its last_seen_at (its heartbeat always does). */
const TOUCH_TRAFFIC_MS = 30_000;

const CLIENT_PATH = /^\/api\/v1\/nodes\/([^/]+)\/connect$/;
/** Another replica piping a client to a node held here (replicas.ts). */
const INTERNAL_PATH = /^\/internal\/v1\/nodes\/([^/]+)\/connect$/;

export function serveRelay(deps: RelayServerDeps) {
  const { auth, hub, store, replicas } = deps;
  // last_seen_at is a hint to the operator: a failed write is not the node's problem.
  const touch = (name: string) => store.touchNode(name).catch(() => {});

  /**
   * A node's agent or a client reaching a node: checked (which asks the store, so it is async:
   * Bun lets a fetch handler upgrade after awaiting), then upgraded to a WebSocket.
   */
  async function connect(req: Request, url: URL, upgrade: boolean, server: Server<Socket>): Promise<Response | undefined> {
    if (url.pathname === "/node/connect") {
      const who = await auth.identify(req.headers.get("authorization"));
      if (!who || who.kind !== "node") return refusal(401, "unauthorized", "a node connects with its own token", "register the node with `cw setup <relay-url>`");
      if (!upgrade) return refusal(426, "upgrade_required", "this endpoint speaks WebSocket", "nodes connect here by themselves");
      return server.upgrade(req, { data: { kind: "agent", name: who.name } }) ? undefined : refusal(400, "bad_request", "WebSocket upgrade failed", "retry");
    }
    const internal = INTERNAL_PATH.exec(url.pathname);
    if (internal) {
      // The replica the client reached checked its token and access; this checks the replica.
      if (!replicas) return refusal(404, "not_found", "this relay runs alone", "no other replica should call it");
      if (!replicas.admits(req.headers.get("authorization"))) return refusal(401, "unauthorized", "not a replica of this relay", "replicas share CW_REPLICA_SECRET");
      const node = decodeName(internal[1]!);
      // Never piped on again: a node that moved meanwhile is simply not here.
      if (!hub.isConnected(node)) return refusal(503, "node_offline", `node ${node} is not connected to this replica`, "it may have moved to another replica; try again");
      const flow = req.headers.get(FLOW_HEADER) === "1" ? { sent: 0, acked: 0 } : undefined;
      return server.upgrade(req, { data: { kind: "client", node, paused: false, flow, out: new FramesToMessages() } }) ? undefined : refusal(400, "bad_request", "WebSocket upgrade failed", "retry");
    }
    const m = CLIENT_PATH.exec(url.pathname)!;
    // A browser signed in to the web app acts as a person (its sign-in took a person's token).
    const who = (await auth.identify(req.headers.get("authorization"))) ?? ((await deps.webSocketAllowed?.(req)) ? WEB_PERSON : null);
    if (!who) return refusal(401, "unauthorized", "missing or wrong token", "use this machine's relay token (`cw setup`) or the relay's admin token");
    const node = decodeName(m[1]!);
    if (!NODE_NAME_RE.test(node)) return refusal(400, "bad_request", `${JSON.stringify(node)} is not a node name`, "`cw nodes` lists the nodes");
    // Before saying whether the node exists: a node's token learns nothing of others.
    if (!(await auth.mayReach(who, node))) {
      return refusal(
        403,
        "forbidden",
        `node ${who.kind === "node" ? who.name : "?"}'s token may not reach node ${node}`,
        `a node's token only connects that node; reach other nodes with a user token (\`cw setup <relay> --token <admin token>\` writes one), or have the operator grant it: cw grant ${who.kind === "node" ? who.name : "<node>"} ${node}`,
      );
    }
    if (!(await store.hasNode(node))) return refusal(404, "not_found", `no node named ${node} is registered with this relay`, "`cw nodes` lists the registered nodes");
    const elsewhere = replicas?.locate(node);
    if (elsewhere) {
      if (!upgrade) return refusal(426, "upgrade_required", "this endpoint speaks WebSocket", `reach the node with cw commands: cw list ${node}, cw attach ${node}:<id>`);
      return server.upgrade(req, { data: { kind: "proxy", node, url: elsewhere, paused: false } }) ? undefined : refusal(400, "bad_request", "WebSocket upgrade failed", "retry");
    }
    if (!hub.isConnected(node)) return refusal(503, "node_offline", `node ${node} is not connected to the relay`, "start its node (`cw start` on that machine); `cw nodes` shows which are online");
    if (!upgrade) return refusal(426, "upgrade_required", "this endpoint speaks WebSocket", `reach the node with cw commands: cw list ${node}, cw attach ${node}:<id>`);
    return server.upgrade(req, { data: { kind: "client", node, paused: false, out: new FramesToMessages() } }) ? undefined : refusal(400, "bad_request", "WebSocket upgrade failed", "retry");
  }

  /**
   * HTTP/1.0 without a Host header (HAProxy's default `option httpchk`, some probes) gives a
   * bare path as the URL, which every URL parser would refuse: give it this listener's.
   */
  const withUrl = (req: Request, server: Server<Socket>): Request =>
    req.url.startsWith("/") ? new Request(new URL(req.url, `http://${deps.address.hostname}:${server.port}`).href, req as RequestInit) : req;

  return Bun.serve<Socket, never>({
    hostname: deps.address.hostname,
    port: deps.address.port,
    ...listenerOptions("the relay", "try again; if it persists, the relay's log has the cause"),
    ...(deps.routes ? { routes: Object.fromEntries(Object.entries(deps.routes).map(([path, handle]) => [path, (req: Request, server: Server<Socket>) => handle(withUrl(req, server))])) } : {}),
    async fetch(req, server) {
      req = withUrl(req, server);
      const url = new URL(req.url);
      const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
      if (url.pathname !== "/node/connect" && !CLIENT_PATH.test(url.pathname) && !INTERNAL_PATH.test(url.pathname)) return deps.fetch(req, server.requestIP(req)?.address);
      try {
        return await connect(req, url, upgrade, server);
      } catch (e) {
        if (e instanceof StoreUnavailableError) return refusal(503, "unavailable", e.message, e.hint);
        throw e;
      }
    },
    websocket: {
      // An agent's message is a frame plus the mux header; a client's, a frame's payload.
      maxPayloadLength: MAX_PAYLOAD + 16,
      // Flow control bounds what a socket holds for a slow reader: the high-water mark, a
      // replica's window, and what the node had on its way when told to pause (its own buffer
      // and the kernel's on each hop: measured up to ~20 MB while a node serves a follower from
      // its log). Bun's default 16 MiB, past which a send is silently dropped (a gap in the
      // client's output), is under that; past this limit the socket is closed rather than gapped.
      backpressureLimit: 64 * 1024 * 1024,
      closeOnBackpressureLimit: true,
      open(ws) {
        ws.binaryType = "uint8array";
        const d = ws.data;
        if (d.kind === "agent") {
          hub.connected(d.name, ws);
          replicas?.nodeConnected(d.name);
          touch(d.name);
          return;
        }
        if (d.kind === "proxy") {
          d.pipe = pipeToReplica(d.url, d.node, replicas!.authorization, {
            send(m) {
              ws.send(m);
              // The client is behind: stop acknowledging, so the holder stops at its window.
              if (!d.paused && ws.getBufferedAmount() > CLIENT_HIGH_WATER) {
                d.paused = true;
                d.pipe?.pause();
              }
            },
            close: (code, reason) => ws.close(code, reason),
          });
          return;
        }
        const stream = hub.open(d.node, {
          data(bytes) {
            // The node speaks frames; the client's WebSocket carries them as messages.
            try {
              for (const m of d.out.push(bytes)) {
                ws.send(m);
                if (d.flow) d.flow.sent += flowLength(m);
              }
            } catch {
              ws.close(1011, "the node sent a broken frame");
              return;
            }
            if (d.flow && !d.held && d.flow.sent - d.flow.acked > FLOW_WINDOW) {
              d.held = true;
              if (!d.paused) d.stream?.pause();
            }
            if (!d.paused && ws.getBufferedAmount() > CLIENT_HIGH_WATER) {
              d.paused = true;
              if (!d.held) d.stream?.pause();
            }
          },
          closed: (why) => ws.close(why?.code ?? 1000, why?.reason ?? "the node ended the stream"),
        });
        if (!stream) {
          // The node left between the check and the upgrade.
          ws.send(JSON.stringify({ type: "Error", code: "unavailable", message: `node ${d.node} is not connected to the relay`, hint: "`cw nodes` shows which nodes are online" }));
          ws.close(1011, "node offline");
          return;
        }
        d.stream = stream;
        if (d.flow) ws.send(FLOW_HELLO);
      },
      // A node's last_seen_at is its last heartbeat (the agent pings every 30 s), so `cw nodes`
      // shows a healthy node as just seen, not as seen when it connected. Its traffic counts too,
      // written at most once per TOUCH_TRAFFIC_MS (each write reaches the database).
      ping(ws) {
        const d = ws.data;
        if (d.kind !== "agent") return;
        d.touched = Date.now();
        touch(d.name);
      },
      message(ws, msg) {
        const d = ws.data;
        if (d.kind === "agent") {
          if (Date.now() - (d.touched ?? 0) >= TOUCH_TRAFFIC_MS) {
            d.touched = Date.now();
            touch(d.name);
          }
          if (typeof msg === "string") ws.close(1003, "binary messages only");
          else hub.message(d.name, ws, msg as Uint8Array);
          return;
        }
        if (d.kind === "proxy") {
          // Passed on as it came: the replica holding the node checks it.
          d.pipe?.send(typeof msg === "string" ? msg : new Uint8Array(msg as Uint8Array));
          return;
        }
        if (d.flow && typeof msg === "string" && msg.startsWith(FLOW_ACK)) {
          d.flow.acked = Number(msg.slice(FLOW_ACK.length)) || d.flow.acked;
          // Half a window, so the node is not paused and resumed for every acknowledgement.
          if (d.held && d.flow.sent - d.flow.acked <= FLOW_WINDOW / 2) {
            d.held = false;
            if (!d.paused) d.stream?.resume();
          }
          return;
        }
        let frame: Uint8Array;
        try {
          frame = messageToFrame(typeof msg === "string" ? msg : (msg as Uint8Array));
        } catch {
          ws.close(1009, "message larger than a frame may be");
          return;
        }
        d.stream?.send(frame);
      },
      pong(ws) {
        if (ws.data.kind === "agent") hub.heard(ws.data.name, ws);
      },
      drain(ws) {
        const d = ws.data;
        if (d.kind === "client" && d.paused && ws.getBufferedAmount() < CLIENT_LOW_WATER) {
          d.paused = false;
          if (!d.held) d.stream?.resume();
        } else if (d.kind === "proxy" && d.paused && ws.getBufferedAmount() < CLIENT_LOW_WATER) {
          d.paused = false;
          d.pipe?.resume();
        }
      },
      close(ws) {
        const d = ws.data;
        if (d.kind === "agent") {
          hub.disconnected(d.name, ws);
          // Unless a newer connection of the node replaced this one here.
          if (!hub.isConnected(d.name)) replicas?.nodeDisconnected(d.name);
          touch(d.name);
        } else if (d.kind === "proxy") d.pipe?.close();
        else d.stream?.close();
      },
    },
  });
}

/** A node name from a path segment; a malformed escape is left as it is (and is no name). */
function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
