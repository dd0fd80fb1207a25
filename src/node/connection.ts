/**
 * One client connection on the node's side: frame decoding, a bounded-by-policy write queue
 * that honours socket backpressure, and the hooks a streaming request installs.
 */
import type { Socket } from "bun";
import { controlFrame, dataFrame, encodeFrameInto, FRAME_DATA, type Frame, FrameReader, HEADER_SIZE } from "../protocol";
import type { Reply } from "../protocol";
import { ByteQueue } from "./byte-queue";

/** Above this many queued bytes a viewer counts as slow and is fed from the log instead. */
export const HIGH_WATER = 2 * 1024 * 1024;

export interface Transport {
  /**
   * Writes what it can now; returns how many bytes it took. Keeps no reference to `bytes` once it
   * returns (a copy, if anything): the caller may reuse or free them (data(), pty/bun-terminal.ts).
   */
  write(bytes: Uint8Array): number;
  end(): void;
  /** Bytes the transport took but has not sent yet (a WebSocket buffers whole messages). */
  buffered?(): number;
}

/**
 * Where data() builds a frame. A new frame per chunk was ~128 KiB of garbage per PTY read during
 * a flood, freed only as fast as the collector got to it.
 */
const SCRATCH_MAX = 1024 * 1024;
let scratch = new Uint8Array(64 * 1024);

export class Connection {
  readonly reader = new FrameReader();
  /** What the transport could not take yet (copied: see byte-queue.ts). */
  private readonly queue = new ByteQueue();
  closed = false;
  /** end() was called: nothing more is accepted, what is queued still goes out. */
  private ending = false;
  /** Installed by a streaming request to receive later frames. */
  onFrame?: (f: Frame) => void;
  private closeHooks: (() => void)[] = [];
  private drainHooks: (() => void)[] = [];

  /**
   * @param local A client on this machine (the Unix socket), not one over the network or a
   * relay: only such a client's terminal path names a terminal here (Attach.tty).
   */
  constructor(
    private readonly transport: Transport,
    readonly local = false,
  ) {}

  static fromSocket(s: Socket<unknown>): Connection {
    return new Connection({ write: (b) => s.write(b), end: () => s.end() }, true);
  }

  get pendingBytes(): number {
    return this.queue.length + (this.transport.buffered?.() ?? 0);
  }

  reply(message: Reply): void {
    this.write(controlFrame(message));
  }

  data(bytes: Uint8Array): void {
    if (!bytes.length) return;
    const n = HEADER_SIZE + bytes.length;
    if (n > SCRATCH_MAX) return this.write(dataFrame(bytes));
    // Built in one reused buffer: the transport and the queue copy what they keep.
    if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
    this.write(encodeFrameInto(scratch, FRAME_DATA, bytes));
  }

  write(bytes: Uint8Array): void {
    if (this.closed || this.ending) return;
    if (this.queue.length === 0) {
      const n = this.transport.write(bytes);
      if (n >= bytes.length) return;
      bytes = bytes.subarray(Math.max(0, n));
    }
    this.queue.push(bytes);
  }

  /** The socket can take more: flush the queue, then tell streams they may catch up. */
  drained(): void {
    while (this.queue.length && !this.closed) {
      const head = this.queue.peek();
      const n = this.transport.write(head);
      this.queue.consume(Math.max(0, n));
      if (n < head.length) return;
    }
    // A hook may add or remove hooks: run the ones registered when the drain began.
    for (const h of this.drainHooks.slice()) h();
  }

  /** Calls `h` each time the socket drains; returns a canceller. */
  onDrain(h: () => void): () => void {
    this.drainHooks.push(h);
    return () => {
      const i = this.drainHooks.indexOf(h);
      if (i >= 0) this.drainHooks.splice(i, 1);
    };
  }

  onClose(h: () => void): void {
    this.closeHooks.push(h);
  }

  /** Ends the connection after what is queued has been written. */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    if (this.queue.length === 0) {
      this.transport.end();
      return;
    }
    this.drainHooks.push(() => {
      if (this.queue.length === 0) this.transport.end();
    });
  }

  /** The peer went away (or we gave up on it). */
  closedByPeer(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.clear();
    for (const h of this.closeHooks.splice(0)) {
      try {
        h();
      } catch {
        /* a hook failing must not stop the others */
      }
    }
  }
}
