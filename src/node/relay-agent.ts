/**
 * The node's outbound connection to its relay (relay.toml, written by `cw setup`): one
 * WebSocket, kept open and re-opened with backoff, on which the relay opens client streams
 * (relay-mux.ts). Each stream is served exactly like a connection to the Unix socket.
 */
import { relayWsUrl, type RelaySettings } from "../config/relay";
import { keepAlive, periodFromEnv } from "../sys/keep-alive";
import { decodeMux, encodeMux, MUX_CLOSE, MUX_DATA, MUX_OPEN, MUX_PAUSE, MUX_RESUME } from "../protocol/relay-mux";
import { Connection } from "./connection";
import type { NodeContext } from "./context";
import { type ClientState, clientState, receive } from "./incoming";

/** How often the node checks that the path to the relay is alive (silent for 3 periods: dead). */
const PING_EVERY_MS = periodFromEnv("CW_RELAY_PING_MS", 30_000);
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/** Above this many bytes waiting in the WebSocket, streams hold their output. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/**
 * A retry's wait: between half and all of the backoff, at random ("equal jitter"), so that the
 * nodes a relay restart cut off come back spread over time instead of all in the same instant.
 */
export function jittered(backoffMs: number, random: () => number = Math.random): number {
  return Math.round(backoffMs / 2 + random() * (backoffMs / 2));
}

interface Stream {
  st: ClientState;
  paused: boolean;
}

export type RelayState = { state: "connecting" | "connected" | "disconnected" | "stopped"; url: string; node?: string; since: string; error?: string };

export class RelayAgent {
  private ws?: WebSocket;
  private streams = new Map<number, Stream>();
  private backoff = BACKOFF_MIN_MS;
  private retry?: ReturnType<typeof setTimeout>;
  private pump?: ReturnType<typeof setTimeout>;
  private heartbeat?: { stop(): void };
  private stopped = false;
  private draining = false;
  status: RelayState;

  constructor(
    readonly settings: RelaySettings,
    private readonly ctx: NodeContext,
  ) {
    this.status = { state: "connecting", url: settings.url, ...(settings.node ? { node: settings.node } : {}), since: new Date().toISOString() };
  }

  start(): void {
    this.connect();
  }

  /**
   * The node is stopping: no reconnecting and no new streams, but the open ones stay, so that
   * clients attached through the relay hear why their session ended (AttachEnded node_stopping),
   * as local ones do, before stop() closes the connection.
   */
  drain(): void {
    this.stopped = true;
    this.draining = true;
    if (this.retry) clearTimeout(this.retry);
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.heartbeat?.stop();
    this.ws?.close(1000, "node stopping");
    this.endStreams();
    this.setState("stopped");
  }

  private setState(state: RelayState["state"], error?: string): void {
    const changed = state !== this.status.state || error !== this.status.error;
    this.status = { ...this.status, state, since: changed ? new Date().toISOString() : this.status.since, ...(error ? { error } : { error: undefined }) };
    if (changed) this.ctx.log(`relay ${this.settings.url}: ${state}${error ? ` (${error})` : ""}`);
  }

  private connect(): void {
    if (this.stopped) return;
    const url = relayWsUrl(this.settings.url, "/node/connect");
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, { headers: { Authorization: `Bearer ${this.settings.token}` } } as unknown as string[]);
    } catch (e) {
      this.setState("disconnected", (e as Error).message);
      this.scheduleRetry();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    let opened = 0;
    const lost = (code: number) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.heartbeat?.stop();
      this.endStreams();
      if (this.stopped) return;
      // A connection that held for a while starts the backoff over.
      if (opened && Date.now() - opened > 10_000) this.backoff = BACKOFF_MIN_MS;
      const why =
        code === 4001
          ? "this node was removed from the relay; run `cw setup` again"
          : code === 4003
            ? "this node's token was replaced (`cw setup` ran again); reconnecting with the token in relay.toml"
            : code === 4000
            ? "another connection with this node's name replaced this one"
            : code === 4002
              ? `no answer from the relay for ${(3 * PING_EVERY_MS) / 1000}s`
              : opened
                ? `closed (${code})`
                : "could not connect (is the relay up, and the token valid?)";
      this.setState("disconnected", why);
      this.scheduleRetry();
    };
    ws.onopen = () => {
      opened = Date.now();
      this.setState("connected");
      this.heartbeat = keepAlive(ws, PING_EVERY_MS, () => {
        // A dead path never completes a close handshake: give up on it here and now.
        ws.close(4002, "no answer from the relay");
        lost(4002);
      });
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") return;
      this.message(ws, new Uint8Array(ev.data as ArrayBuffer));
    };
    ws.onclose = (ev) => lost(ev.code);
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const wait = jittered(this.backoff);
    this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff * 2);
    this.retry = setTimeout(() => this.connect(), wait);
  }

  private message(ws: WebSocket, bytes: Uint8Array): void {
    const m = decodeMux(bytes);
    if (!m) return;
    if (m.kind === MUX_OPEN) {
      const id = m.channel;
      if (this.draining) {
        ws.send(encodeMux(MUX_CLOSE, id));
        return;
      }
      const stream: Stream = {
        paused: false,
        st: clientState(
          new Connection({
            write: (b) => {
              if (stream.paused || this.ws !== ws) return 0;
              ws.send(encodeMux(MUX_DATA, id, b));
              if (ws.bufferedAmount > HIGH_WATER) this.watchBuffer(ws);
              return b.length;
            },
            end: () => {
              if (this.streams.get(id) !== stream) return;
              this.streams.delete(id);
              if (this.ws === ws) ws.send(encodeMux(MUX_CLOSE, id));
            },
            buffered: () => (ws.bufferedAmount > HIGH_WATER ? ws.bufferedAmount : 0),
          }),
        ),
      };
      this.streams.get(id)?.st.conn.closedByPeer();
      this.streams.set(id, stream);
      return;
    }
    const stream = this.streams.get(m.channel);
    if (!stream) return;
    if (m.kind === MUX_DATA) receive(stream.st, m.payload, this.ctx);
    else if (m.kind === MUX_CLOSE) {
      this.streams.delete(m.channel);
      stream.st.conn.closedByPeer();
    } else if (m.kind === MUX_PAUSE) stream.paused = true;
    else if (m.kind === MUX_RESUME) {
      stream.paused = false;
      stream.st.conn.drained();
    }
  }

  /** Bun's client WebSocket has no drain event: look until the buffer is low, then let streams go on. */
  private watchBuffer(ws: WebSocket): void {
    if (this.pump) return;
    const check = () => {
      this.pump = undefined;
      if (this.ws !== ws) return;
      if (ws.bufferedAmount > LOW_WATER) {
        this.pump = setTimeout(check, 5);
        return;
      }
      for (const s of this.streams.values()) if (!s.paused) s.st.conn.drained();
    };
    this.pump = setTimeout(check, 5);
  }

  private endStreams(): void {
    const all = [...this.streams.values()];
    this.streams.clear();
    for (const s of all) s.st.conn.closedByPeer();
  }
}
