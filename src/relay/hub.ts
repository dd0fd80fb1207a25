/**
 * The relay's switchboard: one WebSocket per connected node (its agent), and on it any number of
 * client streams (relay-mux.ts). A stream is opened for a client that reached the relay (its
 * WebSocket is piped through byte for byte) or for the relay itself (`dial`, used by the SSH
 * gateway, which then talks to the node as an ordinary client).
 */
import { NodeConnection } from "../client/connection";
import { NodeUnavailableError } from "../client/errors";
import { decodeMux, encodeMux, MUX_CLOSE, MUX_DATA, MUX_OPEN, MUX_PAUSE, MUX_RESUME } from "../protocol/relay-mux";

/** What the hub needs of a node's WebSocket (Bun's ServerWebSocket has it). */
export interface AgentSocket {
  send(bytes: Uint8Array): number;
  close(code?: number, reason?: string): void;
  ping?(): unknown;
  /** Drops the connection at once, without a close handshake (which a hung peer never answers). */
  terminate?(): void;
}

/** Why a node's streams ended: what clients of those streams are told. */
export type DropReason = { code: number; reason: string } | undefined;

/** Who consumes what the node sends on a stream. */
export interface StreamSink {
  data(bytes: Uint8Array): void;
  /** The node or its connection ended the stream; `why` when the relay gave up on the node. */
  closed(why?: DropReason): void;
}

/** The relay's end of one stream. */
export interface Stream {
  send(bytes: Uint8Array): void;
  close(): void;
  /** Ask the node to stop writing (the consumer is slow), and to start again. */
  pause(): void;
  resume(): void;
}

interface Agent {
  socket: AgentSocket;
  streams: Map<number, StreamSink>;
  next: number;
  /** When anything (a message, a pong) last came from the node. */
  heard: number;
}

export class NodeHub {
  private agents = new Map<string, Agent>();
  private pinger?: ReturnType<typeof setInterval>;

  constructor(private readonly log: (msg: string) => void = () => {}) {}

  /**
   * Pings every node each `periodMs`; a node silent for three periods (hung, stopped, its
   * machine asleep or gone from the network) is dropped: it shows offline, and the clients of
   * its streams are told why at once instead of waiting minutes for TCP to give up.
   */
  startPinging(periodMs: number): void {
    this.stopPinging();
    let tick = Date.now();
    this.pinger = setInterval(() => {
      const now = Date.now();
      // Woken late (the relay itself was stopped or starved): the silence was ours, not theirs.
      if (now - tick > 2 * periodMs) for (const a of this.agents.values()) a.heard = now;
      tick = now;
      for (const [name, a] of [...this.agents]) {
        if (now - a.heard > 3 * periodMs) {
          const silent = Math.round((now - a.heard) / 1000);
          this.log(`node ${name} did not answer for ${silent}s; marking it offline`);
          this.drop(name, a, { code: 1011, reason: `node ${name} stopped answering the relay (silent ${silent}s)` });
          a.socket.terminate ? a.socket.terminate() : a.socket.close(4002, "no answer");
          continue;
        }
        try {
          a.socket.ping?.();
        } catch {
          // A socket closing under us: its close event drops it.
        }
      }
    }, periodMs);
    this.pinger.unref?.();
  }

  stopPinging(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = undefined;
  }

  /** Something came from a node's agent (a pong): it is alive. */
  heard(name: string, socket: AgentSocket): void {
    const a = this.agents.get(name);
    if (a && a.socket === socket) a.heard = Date.now();
  }

  /** A node's agent connected. A second connection under the same name replaces the first. */
  connected(name: string, socket: AgentSocket): void {
    const old = this.agents.get(name);
    if (old) {
      this.log(`node ${name} connected again; closing its previous connection`);
      this.drop(name, old);
      old.socket.close(4000, "replaced by a newer connection");
    }
    this.agents.set(name, { socket, streams: new Map(), next: 1, heard: Date.now() });
    this.log(`node ${name} connected`);
  }

  /** A node's agent went away: every stream on it ends. */
  disconnected(name: string, socket: AgentSocket): void {
    const a = this.agents.get(name);
    if (!a || a.socket !== socket) return;
    this.drop(name, a);
    this.log(`node ${name} disconnected`);
  }

  /** A message from a node's agent. */
  message(name: string, socket: AgentSocket, bytes: Uint8Array): void {
    const a = this.agents.get(name);
    if (!a || a.socket !== socket) return;
    a.heard = Date.now();
    const m = decodeMux(bytes);
    if (!m) return; // a newer node's message kind: ignore rather than break every stream
    const sink = a.streams.get(m.channel);
    if (!sink) return;
    if (m.kind === MUX_DATA) sink.data(m.payload);
    else if (m.kind === MUX_CLOSE) {
      a.streams.delete(m.channel);
      sink.closed();
    }
  }

  /** The nodes connected here. */
  names(): string[] {
    return [...this.agents.keys()];
  }

  isConnected(name: string): boolean {
    return this.agents.has(name);
  }

  /** Ends a node's connection: it was removed from the relay. */
  disconnect(name: string): void {
    this.end(name, 4001, "removed from the relay");
  }

  /** Ends a node's connection made with a token that was just replaced (4003: not "removed"). */
  rotated(name: string): void {
    this.end(name, 4003, "token rotated");
  }

  /** Ends a node's connection because it connected again elsewhere (another relay replica). */
  replaced(name: string): void {
    this.end(name, 4000, "replaced by a newer connection");
  }

  private end(name: string, code: number, reason: string): void {
    const a = this.agents.get(name);
    if (!a) return;
    this.drop(name, a);
    a.socket.close(code, reason);
  }

  /** Opens a stream to `name`, or undefined when that node is not connected. */
  open(name: string, sink: StreamSink): Stream | undefined {
    const a = this.agents.get(name);
    if (!a) return undefined;
    const id = a.next;
    a.next = a.next >= 0xffffffff ? 1 : a.next + 1;
    a.streams.set(id, sink);
    a.socket.send(encodeMux(MUX_OPEN, id));
    const live = () => this.agents.get(name) === a && a.streams.has(id);
    return {
      send: (bytes) => {
        if (live()) a.socket.send(encodeMux(MUX_DATA, id, bytes));
      },
      close: () => {
        if (!live()) return;
        a.streams.delete(id);
        a.socket.send(encodeMux(MUX_CLOSE, id));
      },
      pause: () => {
        if (live()) a.socket.send(encodeMux(MUX_PAUSE, id));
      },
      resume: () => {
        if (live()) a.socket.send(encodeMux(MUX_RESUME, id));
      },
    };
  }

  /** A client connection to `name` through its agent, for the relay's own use. */
  dial(name: string): NodeConnection {
    // The sink is called only on later messages, by which time `conn` is set.
    let conn!: NodeConnection;
    const stream = this.open(name, {
      data: (bytes) => conn.received(bytes),
      closed: (why) => conn.closed(why ? new NodeUnavailableError(why.reason, "`cw nodes` shows whether it is back; the node reconnects by itself when it can") : undefined),
    });
    if (!stream) throw new NodeUnavailableError(`node ${name} is not connected to the relay`, "start its node (`cw start` on that machine) and check `cw nodes`");
    conn = new NodeConnection({
      write(bytes) {
        stream.send(bytes);
        return bytes.length;
      },
      end: () => stream.close(),
      pause: () => stream.pause(),
      resume: () => stream.resume(),
    });
    return conn;
  }

  private drop(name: string, a: Agent, why?: DropReason): void {
    if (this.agents.get(name) === a) this.agents.delete(name);
    const sinks = [...a.streams.values()];
    a.streams.clear();
    for (const s of sinks) s.closed(why);
  }
}
