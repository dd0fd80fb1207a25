/**
 * Bytes waiting for a slow transport, copied into one buffer the queue owns.
 *
 * Why copies: a queue of the callers' own buffers keeps each of them alive for as long as the
 * transport takes to drain, typically across a garbage collection or two. A flood's PTY chunks
 * and log reads then survive the young-generation collections that would have freed them and
 * are freed only by a full collection, much later: with a terminal slower than the flood the
 * node held 10-20 MiB of such dead chunks. Copied here, every buffer a caller passes is garbage
 * the moment write() returns, and the queue's own buffer is reused.
 *
 * The bytes stay contiguous (compacted when the buffer's end is reached): a transport that takes
 * whole messages only (websocket.ts) is always handed whole frames.
 */
const EMPTY = new Uint8Array(0);
/** Smallest buffer; a buffer up to this size is kept while the queue is empty. */
const MIN_CAPACITY = 64 * 1024;
/** How long a larger buffer is kept once the queue is empty (a slow client's next backlog reuses it). */
const RELEASE_AFTER_MS = 1000;

export class ByteQueue {
  private buf = EMPTY;
  private head = 0;
  private tail = 0;
  private releaseTimer?: ReturnType<typeof setTimeout>;

  get length(): number {
    return this.tail - this.head;
  }

  /** Copies `bytes` to the end of the queue. */
  push(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n === 0) return;
    if (this.releaseTimer) {
      clearTimeout(this.releaseTimer);
      this.releaseTimer = undefined;
    }
    if (this.tail + n > this.buf.length) {
      const len = this.length;
      if (len + n <= this.buf.length && this.head > 0) {
        this.buf.copyWithin(0, this.head, this.tail);
      } else {
        // Doubling: compactions then copy each byte about once more, however slow the reader.
        let cap = Math.max(MIN_CAPACITY, this.buf.length);
        while (cap < len + n) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.head, this.tail));
        this.buf = next;
      }
      this.head = 0;
      this.tail = len;
    }
    this.buf.set(bytes, this.tail);
    this.tail += n;
  }

  /** The queued bytes, oldest first: a view, valid until the next push or consume. */
  peek(): Uint8Array {
    return this.buf.subarray(this.head, this.tail);
  }

  /** Drops the first `n` queued bytes (they were written). */
  consume(n: number): void {
    this.head += Math.min(n, this.length);
    if (this.head < this.tail) return;
    this.head = this.tail = 0;
    if (this.buf.length > MIN_CAPACITY && !this.releaseTimer) {
      this.releaseTimer = setTimeout(() => {
        this.releaseTimer = undefined;
        if (this.length === 0) this.buf = EMPTY;
      }, RELEASE_AFTER_MS);
      this.releaseTimer.unref?.();
    }
  }

  /** Drops everything, buffer included. */
  clear(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    this.buf = EMPTY;
    this.head = this.tail = 0;
  }
}
