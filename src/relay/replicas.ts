/**
 * Several `cw relay` processes on one PostgreSQL database serving as one relay. Each replica
 * records itself (an id and the internal URL the others reach it at) with a heartbeat, and
 * records which nodes' WebSockets it holds (node_locations). Events go over LISTEN/NOTIFY on
 * one channel: a node connected or went, a node must be disconnected (deleted, token rotated).
 *
 * A client that reaches a replica not holding its node is piped, message for message, to the
 * replica that does, on that replica's internal endpoint (`/internal/v1/nodes/<name>/connect`),
 * which admits only callers with the shared secret (CW_REPLICA_SECRET): never open. The caller's
 * own token and access were checked by the replica it reached.
 *
 * A replica whose heartbeat is older than three periods is taken for dead: its nodes count as
 * offline until they reconnect (through the load balancer) to a live one.
 */
import type { SQL } from "bun";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { NodeConnection } from "../client/connection";
import { NodeUnavailableError } from "../client/errors";
import { FramesToMessages, messageToFrame } from "../protocol/ws-messages";
import { sameSecret } from "../sys/secrets";
import type { NodeHub } from "./hub";

const CHANNEL = "cw_relay";
/** A replica that has not beaten for this long is forgotten altogether, with its nodes. */
const FORGET_AFTER_S = 300;

/**
 * Flow control on a client piped between replicas, by credit: the replica holding the node
 * sends at most FLOW_WINDOW bytes that the replica the client reached has not acknowledged, and
 * pauses the node's stream (as for a slow client of its own) until acknowledgements come. That
 * replica acknowledges what it has handed to its client while the client keeps up, and nothing
 * while the client's socket holds more than its high-water mark; so what it buffers for a slow
 * client is bounded by that mark plus the window plus what the node had in flight when the holder
 * paused it, whatever the rates. (Pause and resume messages from that replica were not enough: a
 * node serving a follower from its log sends tens of MB in the time a pause takes to travel back
 * through both replicas.)
 *
 * A version that knows this asks for it with FLOW_HEADER; the holder then greets with FLOW_HELLO,
 * and acknowledgements are FLOW_ACK followed by the total of bytes consumed (message lengths: a
 * text message's length in characters, a binary one's in bytes). A holder that does not know
 * ignores the header and never greets, and no acknowledgement is sent. They are text messages,
 * which on this link otherwise carry JSON (a control frame), so a leading \u0001 is never data.
 */
export const FLOW_HEADER = "x-cw-replica-flow";
export const FLOW_HELLO = "\u0001hello";
export const FLOW_ACK = "\u0001ack ";
export const FLOW_WINDOW = 4 * 1024 * 1024;
/** Acknowledgements are sent each time this much more has been consumed (or on a resume). */
const ACK_EVERY = 256 * 1024;

/** A message's length as both ends of the link count it. */
export function flowLength(m: string | Uint8Array): number {
  return typeof m === "string" ? m.length : m.byteLength;
}

/** What replicas tell each other. */
type Event =
  | { op: "connected"; node: string; replica: string; url: string }
  | { op: "gone"; node: string; replica: string }
  | { op: "disconnect" | "rotated"; node: string }
  /** Re-read node_locations (a replica rewrote its part of it). */
  | { op: "refresh" };

export interface ReplicaOptions {
  sql: SQL;
  hub: NodeHub;
  /** Shared by all replicas (CW_REPLICA_SECRET); authenticates traffic between them. */
  secret: string;
  heartbeatMs: number;
  log: (msg: string) => void;
}

/** The least a secret shared between replicas must be: it guards every node's sessions. */
export const REPLICA_SECRET_MIN = 24;

export class Replicas {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  /** Nodes held by other live replicas: name → that replica's URL. */
  private remote = new Map<string, { replica: string; url: string }>();
  private timer?: ReturnType<typeof setInterval>;
  private unlisten?: () => Promise<void>;
  private writes: Promise<void> = Promise.resolve();
  /** A location write failed: resync at the next heartbeat. */
  private lost = false;
  /** The URL the other replicas reach this one at (CW_REPLICA_URL), e.g. http://10.0.0.7:8080. */
  private url = "";

  constructor(private readonly o: ReplicaOptions) {}

  /** Joins the set, reachable by the others at `url` (known once the listener is up). */
  async start(url: string): Promise<void> {
    this.url = url;
    await this.beat();
    const sub = await this.o.sql.listen(
      CHANNEL,
      (payload) => this.heard(payload),
      // After every (re)subscription: notifications may have been missed meanwhile.
      () => void this.refresh().catch(() => {}),
    );
    this.unlisten = () => sub.unlisten();
    let beating = false;
    this.timer = setInterval(() => {
      // One at a time: with the database away a beat waits out its connection timeout.
      if (beating) return;
      beating = true;
      this.beat()
        .catch((e) => this.o.log(`replica heartbeat failed: ${(e as Error).message}`))
        .finally(() => (beating = false));
    }, this.o.heartbeatMs);
    this.timer.unref();
    this.o.log(`replica ${this.id} reachable by the others at ${this.url}`);
  }

  /** Whether `name` is connected here or to another live replica. */
  isConnected(name: string): boolean {
    return this.o.hub.isConnected(name) || this.remote.has(name);
  }

  /** The URL of the other replica holding `name`, if one does. */
  locate(name: string): string | undefined {
    return this.o.hub.isConnected(name) ? undefined : this.remote.get(name)?.url;
  }

  /**
   * A client connection to `name` for the relay's own use (the SSH gateway): through the hub
   * when the node is here, else piped to the replica holding it.
   */
  dial(name: string): NodeConnection {
    const url = this.locate(name);
    if (!url) return this.o.hub.dial(name);
    // The node speaks frames; between replicas they travel as a client's WebSocket messages.
    let conn!: NodeConnection;
    const out = new FramesToMessages();
    const pipe = pipeToReplica(url, name, this.authorization, {
      send: (m) => conn.received(messageToFrame(m)),
      close: (code, reason) => conn.closed(code === 1000 ? undefined : new NodeUnavailableError(reason || `the connection to node ${name} ended`, "`cw nodes` shows whether it is back; the node reconnects by itself when it can")),
    });
    conn = new NodeConnection({
      write(bytes) {
        for (const m of out.push(bytes)) pipe.send(m);
        return bytes.length;
      },
      end: () => pipe.close(),
      // The gateway's SSH channel is full: the node is asked, through the holder, to wait.
      pause: () => pipe.pause(),
      resume: () => pipe.resume(),
    });
    return conn;
  }

  /** Whether a request between replicas carries the shared secret. */
  admits(authorization: string | null): boolean {
    const m = authorization?.match(/^Replica[ \t]+(\S+)$/);
    return !!m && sameSecret(m[1]!, this.o.secret);
  }

  /** How this replica authenticates to the others. */
  get authorization(): string {
    return `Replica ${this.o.secret}`;
  }

  /** Ends `name`'s connection wherever it is (it was removed from the relay). */
  disconnect(name: string): void {
    this.o.hub.disconnect(name);
    this.notify({ op: "disconnect", node: name });
  }

  /** Ends `name`'s connection wherever it is (its token was rotated). */
  rotated(name: string): void {
    this.o.hub.rotated(name);
    this.notify({ op: "rotated", node: name });
  }

  /** A node's agent connected here: record it, and tell the others (one holding it lets go). */
  nodeConnected(name: string): void {
    this.remote.delete(name);
    this.record(name, "connected", async () => {
      await this.o.sql`INSERT INTO node_locations (node, replica_id) VALUES (${name}, ${this.id})
        ON CONFLICT (node) DO UPDATE SET replica_id = excluded.replica_id, since = now()`;
      this.notify({ op: "connected", node: name, replica: this.id, url: this.url });
    });
  }

  /** A node's agent left this replica (and no newer connection of it is here). */
  nodeDisconnected(name: string): void {
    this.record(name, "gone", async () => {
      await this.o.sql`DELETE FROM node_locations WHERE node = ${name} AND replica_id = ${this.id}`;
      this.notify({ op: "gone", node: name, replica: this.id });
    });
  }

  /**
   * Location writes run one after another, in the order their events happened: a node that
   * drops and comes straight back must not have its "gone" land after its "connected".
   */
  private record(name: string, what: string, write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((e) => {
      this.o.log(`cannot record node ${name} as ${what}: ${(e as Error).message}; recording every node here again at the next heartbeat`);
      this.lost = true;
    });
  }

  /**
   * After a write was lost (the database was away), node_locations is made to say exactly which
   * nodes this replica holds, in one transaction, and the others are told to re-read it.
   */
  private async resync(): Promise<void> {
    const here = this.o.hub.names();
    await this.o.sql.begin(async (tx) => {
      await tx`DELETE FROM node_locations WHERE replica_id = ${this.id} AND NOT (node = ANY(${here}::text[]))`;
      if (here.length) {
        await tx`INSERT INTO node_locations (node, replica_id) SELECT unnest(${here}::text[]), ${this.id}
          ON CONFLICT (node) DO UPDATE SET replica_id = excluded.replica_id, since = now()`;
      }
    });
    this.notify({ op: "refresh" });
  }

  /** Leaves the set: the others stop routing to this replica at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.().catch(() => {});
    await this.o.sql.begin(async (tx) => {
      await tx`DELETE FROM node_locations WHERE replica_id = ${this.id}`;
      await tx`DELETE FROM replicas WHERE id = ${this.id}`;
    }).catch(() => {});
  }

  private async beat(): Promise<void> {
    await this.o.sql`INSERT INTO replicas (id, url) VALUES (${this.id}, ${this.url})
        ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = now()`;
    if (this.lost) {
      this.lost = false;
      // In the write queue, so it lands after any write still pending.
      this.writes = this.writes.then(() => this.resync()).catch((e) => {
        this.lost = true;
        this.o.log(`cannot record the nodes connected here: ${(e as Error).message}`);
      });
    }
    // Long-dead replicas (killed, never stopped) are forgotten by whoever notices.
    await this.o.sql`DELETE FROM node_locations WHERE replica_id IN (SELECT id FROM replicas WHERE heartbeat_at < now() - make_interval(secs => ${FORGET_AFTER_S}))`;
    await this.o.sql`DELETE FROM replicas WHERE heartbeat_at < now() - make_interval(secs => ${FORGET_AFTER_S})`;
    await this.refresh();
  }

  /** Reads which nodes the other live replicas hold. */
  private async refresh(): Promise<void> {
    const staleS = (3 * this.o.heartbeatMs) / 1000;
    const rows = await this.o.sql`SELECT l.node, r.id, r.url FROM node_locations l JOIN replicas r ON r.id = l.replica_id
      WHERE r.id <> ${this.id} AND r.heartbeat_at > now() - make_interval(secs => ${staleS})`;
    this.remote = new Map(rows.map((r: { node: string; id: string; url: string }) => [r.node, { replica: r.id, url: r.url }]));
  }

  private notify(e: Event): void {
    this.o.sql`SELECT pg_notify(${CHANNEL}, ${JSON.stringify(e)})`.catch((err) => this.o.log(`cannot tell the other replicas (${e.op}${"node" in e ? ` ${e.node}` : ""}): ${(err as Error).message}`));
  }

  private heard(payload: string): void {
    let e: Event;
    try {
      e = JSON.parse(payload) as Event;
    } catch {
      return;
    }
    switch (e.op) {
      case "connected":
        if (e.replica === this.id) return;
        // The node connected again elsewhere: a connection it left here is stale.
        if (this.o.hub.isConnected(e.node)) this.o.hub.replaced(e.node);
        this.remote.set(e.node, { replica: e.replica, url: e.url });
        return;
      case "gone":
        if (this.remote.get(e.node)?.replica === e.replica) this.remote.delete(e.node);
        return;
      case "disconnect":
        this.o.hub.disconnect(e.node);
        return;
      case "rotated":
        this.o.hub.rotated(e.node);
        return;
      case "refresh":
        void this.refresh().catch(() => {});
        return;
    }
  }
}

/** The client's end of a pipe to another replica: what server.ts calls as the client speaks. */
export interface ReplicaPipe {
  send(message: string | Uint8Array): void;
  close(): void;
  /** The client reads slowly: the node is asked to stop writing to it (and then to go on). */
  pause(): void;
  resume(): void;
}

/**
 * Pipes a client's WebSocket to the replica at `url` that holds `node`, message for message
 * (messages sent before that connection opens are queued). When that replica goes away, the
 * client is told so, and that the node will be back through another replica. pause() and resume()
 * reach the node through the holder when it speaks FLOW_* (they are remembered until it greets).
 */
export function pipeToReplica(url: string, node: string, authorization: string, client: { send(m: string | Uint8Array): void; close(code: number, reason: string): void }): ReplicaPipe {
  const target = `${url.replace(/^http/, "ws").replace(/\/+$/, "")}/internal/v1/nodes/${encodeURIComponent(node)}/connect`;
  // Bun's WebSocket takes headers; the DOM type does not know them.
  const up = new WebSocket(target, { headers: { authorization, [FLOW_HEADER]: "1" } } as unknown as string[]);
  up.binaryType = "arraybuffer";
  let queue: (string | Uint8Array)[] | undefined = [];
  let done = false;
  /** The holder said hello: it counts what it sends against our acknowledgements. */
  let flow = false;
  /** The client is behind: what arrives now is not consumed until it catches up. */
  let paused = false;
  let received = 0;
  let consumed = 0;
  let acked = 0;
  const ack = (force: boolean) => {
    if (!flow || consumed === acked || (!force && consumed - acked < ACK_EVERY) || up.readyState !== WebSocket.OPEN) return;
    acked = consumed;
    up.send(`${FLOW_ACK}${consumed}`);
  };
  up.onopen = () => {
    for (const m of queue ?? []) up.send(m);
    queue = undefined;
  };
  up.onmessage = (ev) => {
    if (ev.data === FLOW_HELLO) {
      flow = true;
      return;
    }
    const m = typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data as ArrayBuffer);
    received += flowLength(m);
    // Counted before it is handed over: handing it over may be what pauses the client.
    if (!paused) consumed = received;
    client.send(m);
    ack(false);
  };
  up.onclose = (ev) => {
    if (done) return;
    done = true;
    // A close the other replica chose (the node ended the stream, went offline) passes through;
    // a connection that just broke means that replica is gone.
    const chosen = ev.code === 1000 || (ev.code >= 3000 && ev.code <= 4999) || ev.code === 1011;
    // A close reason is at most 123 bytes; node names are ASCII, so slicing characters will do.
    client.close(chosen ? ev.code : 1011, (chosen ? ev.reason : `the relay replica holding node ${node} went away; the node reconnects to another in seconds`).slice(0, 123));
  };
  return {
    send(m) {
      if (queue) queue.push(m);
      else if (up.readyState === WebSocket.OPEN) up.send(m);
    },
    close() {
      done = true;
      up.close(1000);
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      consumed = received;
      ack(true);
    },
  };
}
