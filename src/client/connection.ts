/**
 * A client's connection to a node: send frames, receive them as an async stream. It runs over
 * the node's Unix socket, or over a WebSocket to a remote node (remote.ts); both carry the same
 * frames.
 */
import type { Reply, RequestInput, RequestType } from "../protocol";
import { controlFrame, dataFrame, type Frame, FrameReader } from "../protocol/frame";
import { PROTOCOL_VERSION } from "../protocol/version";
import { FramesToMessages, messageToFrame } from "../protocol/ws-messages";
import { checkReply, NodeUnavailableError } from "./errors";
import { keepAlive, periodFromEnv } from "../sys/keep-alive";

/**
 * Frames waiting to be consumed beyond this pause reading from the socket, so a consumer that
 * cannot keep up (a slow terminal) pushes back on the node instead of growing this process.
 */
const INBOX_HIGH = 4 * 1024 * 1024;
const INBOX_LOW = 1024 * 1024;
/** How often a WebSocket connection checks that the server still answers. */
const WS_PING_MS = periodFromEnv("CW_WS_PING_MS", 15_000);

/** What carries the bytes. */
export interface Link {
  /** Writes what it can now; returns how many bytes it took. */
  write(bytes: Uint8Array): number;
  end(): void;
  /** Stop and restart reading (a WebSocket cannot, and ignores these). */
  pause(): void;
  resume(): void;
}

export class NodeConnection {
  private reader = new FrameReader();
  private inbox: Frame[] = [];
  private inboxBytes = 0;
  private paused = false;
  private waiters: ((f: Frame | null) => void)[] = [];
  private out: Uint8Array[] = [];
  private ended = false;
  private failure?: Error;

  /** @param local Over the Unix socket of a node on this machine (not a WebSocket or a relay). */
  constructor(
    private link: Link,
    readonly local = false,
  ) {}

  static async open(socketPath: string): Promise<NodeConnection> {
    let self: NodeConnection | undefined;
    const pendingData: Uint8Array[] = [];
    const socket = await Bun.connect({
      unix: socketPath,
      socket: {
        data(_s, chunk) {
          if (self) self.received(chunk);
          else pendingData.push(new Uint8Array(chunk));
        },
        drain() {
          self?.writable();
        },
        close() {
          self?.closed();
        },
        error(_s, err) {
          self?.closed(err);
        },
      },
    });
    self = new NodeConnection(socket, true);
    for (const c of pendingData) self.received(c);
    return self;
  }

  /**
   * A connection over a WebSocket to a remote node or through a relay (`cw --server`, `node:id`):
   * the same frames, carried as messages (protocol/ws-messages.ts). Rejects when it will not
   * open; remote-diagnose.ts then asks the server why.
   */
  static openWebSocket(url: string, token: string | undefined, label: string, timeoutMs = 10_000): Promise<NodeConnection> {
    return new Promise((resolve, reject) => {
      // Bun's WebSocket takes headers, which is how the token travels (never in the URL, where
      // proxies would log it).
      const ws = new WebSocket(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} } as unknown as string[]);
      ws.binaryType = "arraybuffer";
      let conn: NodeConnection | undefined;
      const out = new FramesToMessages();
      const timer = setTimeout(() => ws.close(), timeoutMs);
      let heartbeat: { stop(): void } | undefined;
      ws.onopen = () => {
        clearTimeout(timer);
        // A dead network path would leave an attached terminal waiting forever: end instead.
        heartbeat = keepAlive(ws, WS_PING_MS, (silent) => {
          ws.close(4002, "no answer");
          conn?.closed(new NodeUnavailableError(`no answer from ${label} for ${silent / 1000}s`, "check the network; the session itself keeps running"));
        });
        conn = new NodeConnection({
          write(bytes) {
            for (const m of out.push(bytes)) ws.send(m);
            return bytes.length;
          },
          end: () => {
            heartbeat?.stop();
            ws.close(1000);
          },
          pause() {},
          resume() {},
        });
        resolve(conn);
      };
      ws.onmessage = (ev) => conn?.received(messageToFrame(typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data as ArrayBuffer)));
      ws.onclose = (ev) => {
        clearTimeout(timer);
        heartbeat?.stop();
        if (conn) conn.closed(ev.code === 1000 || ev.code === 1005 ? undefined : new NodeUnavailableError(`the connection to ${label} broke (${ev.code}${ev.reason ? ` ${ev.reason}` : ""})`, "try again; check the network and that the node still runs"));
        else reject(new Error("closed before open"));
      };
    });
  }

  /** Bytes from the link. */
  received(chunk: Uint8Array) {
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.closed(e as Error);
      this.link.end();
      return;
    }
    for (const f of frames) {
      const w = this.waiters.shift();
      if (w) w(f);
      else {
        this.inbox.push(f);
        this.inboxBytes += frameSize(f);
      }
    }
    if (this.inboxBytes > INBOX_HIGH && !this.paused) {
      this.paused = true;
      this.link.pause();
    }
  }

  /** Why the link failed, once it has (a relay's close reason, a silence); undefined otherwise. */
  get failedWith(): Error | undefined {
    return this.failure;
  }

  /** The link closed (with `err` when it failed). */
  closed(err?: Error) {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    for (const w of this.waiters.splice(0)) w(null);
  }

  /** The link can take more. */
  writable() {
    while (this.out.length) {
      const head = this.out[0]!;
      const n = this.link.write(head);
      if (n < head.length) {
        this.out[0] = head.subarray(Math.max(0, n));
        return;
      }
      this.out.shift();
    }
  }

  private write(bytes: Uint8Array) {
    if (this.ended) return;
    this.out.push(bytes);
    if (this.out.length === 1) this.writable();
  }

  /** Sends a request (the first frame of a connection) or a follow-up control message. */
  send<T extends RequestType>(req: RequestInput<T> | { type: string; [k: string]: unknown }) {
    this.write(controlFrame({ protocol: PROTOCOL_VERSION, ...req }));
  }

  sendControl(msg: { type: string; [k: string]: unknown }) {
    this.write(controlFrame(msg));
  }

  sendData(bytes: Uint8Array) {
    for (let i = 0; i < bytes.length; i += 1 << 20) this.write(dataFrame(bytes.subarray(i, i + (1 << 20))));
  }

  /** The next frame, or null when the node closed the connection. */
  next(): Promise<Frame | null> {
    const f = this.inbox.shift();
    if (f) {
      this.inboxBytes -= frameSize(f);
      if (this.paused && this.inboxBytes < INBOX_LOW) {
        this.paused = false;
        this.link.resume();
      }
      return Promise.resolve(f);
    }
    if (this.ended) {
      if (this.failure) return Promise.reject(this.failure);
      return Promise.resolve(null);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next control message; an Error reply is thrown as NodeError. Data frames are skipped. */
  async nextReply(): Promise<Reply | null> {
    for (;;) {
      const f = await this.next();
      // A link that failed while the reply was awaited says why (the relay gave up on the node,
      // no answer on the network), rather than passing for a node that hung up.
      if (!f) {
        if (this.failure) throw this.failure;
        return null;
      }
      if (f.kind !== "control") continue;
      return checkReply(f.message as Reply);
    }
  }

  close() {
    this.link.end();
    this.closed();
  }
}

function frameSize(f: Frame): number {
  return f.kind === "data" ? f.bytes.length : 256;
}

