/**
 * A client's connection to a node's Unix socket: send frames, receive them as an async stream.
 */
import type { Reply, RequestInput, RequestType } from "../protocol";
import { controlFrame, dataFrame, type Frame, FrameReader } from "../protocol/frame";
import { PROTOCOL_VERSION } from "../protocol/version";
import { NodeError } from "./errors";

/**
 * Frames waiting to be consumed beyond this pause reading from the socket, so a consumer that
 * cannot keep up (a slow terminal) pushes back on the node instead of growing this process.
 */
const INBOX_HIGH = 4 * 1024 * 1024;
const INBOX_LOW = 1024 * 1024;

export class NodeConnection {
  private reader = new FrameReader();
  private inbox: Frame[] = [];
  private inboxBytes = 0;
  private paused = false;
  private waiters: ((f: Frame | null) => void)[] = [];
  private out: Uint8Array[] = [];
  private ended = false;
  private failure?: Error;

  private constructor(private socket: Bun.Socket<undefined>) {}

  static async open(socketPath: string): Promise<NodeConnection> {
    let self: NodeConnection | undefined;
    const pendingData: Uint8Array[] = [];
    const socket = await Bun.connect({
      unix: socketPath,
      socket: {
        data(_s, chunk) {
          if (self) self.receive(chunk);
          else pendingData.push(new Uint8Array(chunk));
        },
        drain() {
          self?.flush();
        },
        close() {
          self?.finish();
        },
        error(_s, err) {
          self?.finish(err);
        },
      },
    });
    self = new NodeConnection(socket);
    for (const c of pendingData) self.receive(c);
    return self;
  }

  private receive(chunk: Uint8Array) {
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      this.finish(e as Error);
      this.socket.end();
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
      this.socket.pause();
    }
  }

  private finish(err?: Error) {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    for (const w of this.waiters.splice(0)) w(null);
  }

  private flush() {
    while (this.out.length) {
      const head = this.out[0]!;
      const n = this.socket.write(head);
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
    if (this.out.length === 1) this.flush();
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
        this.socket.resume();
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
      if (!f) return null;
      if (f.kind !== "control") continue;
      return checkReply(f.message as Reply);
    }
  }

  close() {
    this.socket.end();
    this.finish();
  }
}

function frameSize(f: Frame): number {
  return f.kind === "data" ? f.bytes.length : 256;
}

export function checkReply(m: Reply): Reply {
  if (m.type === "Error") throw new NodeError(m.code, m.message, m.hint);
  return m;
}
