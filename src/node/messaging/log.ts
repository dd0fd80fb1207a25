/**
 * The messages' commit log (messages.db.log): where a message is made durable before its sender
 * hears "sent". SQLite keeps the queryable copy; this log only has to outlive a crash until
 * SQLite's own copy is on disk.
 *
 * Why a log of its own: a message committed to SQLite dirties four or five 4 KiB pages (the
 * table, its two indexes, the AUTOINCREMENT counter), so each group commit flushed ~20 KiB of
 * WAL, in a file that keeps growing; a record here is the message's JSON (~300 bytes), written
 * over space that was zeroed and flushed once when the file was made. Overwriting allocated
 * space, fdatasync flushes only the data, not the file's size (measured by
 * scripts/bench/fsync.ts: ~0.15 ms against ~0.25-1.7 ms for an append on this machine's disk).
 *
 * Layout: a 16-byte header (magic, generation, its checksum), then records:
 * [payload length u32][crc32 of the payload seeded with the generation u32][payload]. Reading
 * stops at the first record that does not check out: a torn write, the zeros after the end, or
 * a record of an earlier generation (the log restarts from the top with the next generation once
 * everything in it is safely in SQLite, so old records lie beyond the current end).
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { makePrivateFile } from "../../store/private-db";

const MAGIC = Buffer.from("CWMLOG01");
const HEADER = 16;
const RECORD_HEAD = 8;
/** Space zeroed up front. Small enough for a nearly full disk (the tmpfs of disk-full.test is 4 MiB). */
export const LOG_PREALLOCATE = 2 * 1024 * 1024;

export class MessageLog {
  private gen = 0;
  private offset = HEADER;
  /** Bytes known to be allocated (zeroed or written) in the file. */
  private allocated = 0;

  private constructor(
    private readonly fd: number,
    private readonly capacity: number,
  ) {}

  /**
   * Opens (creating) the log at `path` and returns it with the payloads of its current
   * generation's valid records, oldest first, for the caller to replay. Unless there are none
   * and the header was valid, call restart() before appending: the records read are not yet
   * known to be anywhere else.
   */
  static open(path: string, capacity = LOG_PREALLOCATE): { log: MessageLog; payloads: Uint8Array[]; headerValid: boolean } {
    makePrivateFile(path); // creates it without truncating; messages are the user's
    const rw = openSync(path, "r+");
    const log = new MessageLog(rw, capacity);
    const size = fstatSync(rw).size;
    const bytes = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(rw, bytes, got, size - got, got);
      if (n <= 0) break;
      got += n;
    }
    log.allocated = got;
    const payloads: Uint8Array[] = [];
    let headerValid = false;
    // Without a header that checks out, records of any generation may lie in the file: the next
    // generation is picked at random, so none of them can pass for its own.
    log.gen = (Math.random() * 2 ** 32) >>> 0;
    if (got >= HEADER && bytes.subarray(0, 8).equals(MAGIC)) {
      const gen = bytes.readUInt32LE(8);
      if (bytes.readUInt32LE(12) === Bun.hash.crc32(bytes.subarray(8, 12))) {
        log.gen = gen;
        headerValid = true;
        let at = HEADER;
        while (at + RECORD_HEAD <= got) {
          const len = bytes.readUInt32LE(at);
          if (len === 0 || at + RECORD_HEAD + len > got) break;
          const payload = bytes.subarray(at + RECORD_HEAD, at + RECORD_HEAD + len);
          if (bytes.readUInt32LE(at + 4) !== Bun.hash.crc32(payload, gen)) break;
          payloads.push(payload);
          at += RECORD_HEAD + len;
        }
      }
    }
    if (size === 0) {
      // A new file: its name must last (flush the directory), and its space is zeroed and
      // flushed now, so later flushes carry data only. Without room for that, it grows as
      // written (slower flushes, same guarantees).
      try {
        log.preallocate();
      } catch {
        /* a nearly full disk: no preallocation */
      }
      const dir = openSync(dirname(path), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return { log, payloads, headerValid };
  }

  private preallocate(): void {
    const zeros = Buffer.alloc(64 * 1024);
    for (let at = this.allocated; at < this.capacity; at += zeros.length) writeSync(this.fd, zeros, 0, Math.min(zeros.length, this.capacity - at), at);
    fdatasyncSync(this.fd);
    this.allocated = Math.max(this.allocated, this.capacity);
  }

  /** Whether `bytes` more fit before the log should restart (a batch larger than the log always goes in after a restart). */
  fits(bytes: number): boolean {
    return this.offset === HEADER || this.offset + bytes <= Math.max(this.capacity, this.allocated);
  }

  /**
   * Starts the next generation at the top of the file: every record so far is dropped. Only once
   * their messages are durably elsewhere. The new header is durable with the next sync().
   */
  restart(): void {
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header, 0);
    header.writeUInt32LE((this.gen + 1) >>> 0, 8);
    header.writeUInt32LE(Bun.hash.crc32(header.subarray(8, 12)), 12);
    this.writeAt(header, 0);
    this.gen = (this.gen + 1) >>> 0;
    this.offset = HEADER;
  }

  /** Encodes payloads as records (the caller writes them with append()). */
  encode(payloads: Uint8Array[]): Buffer {
    let total = 0;
    for (const p of payloads) total += RECORD_HEAD + p.length;
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (const p of payloads) {
      out.writeUInt32LE(p.length, at);
      out.writeUInt32LE(Bun.hash.crc32(p, this.gen), at + 4);
      out.set(p, at + RECORD_HEAD);
      at += RECORD_HEAD + p.length;
    }
    return out;
  }

  /** Writes encoded records after the last ones (page cache only: sync() makes them durable). */
  append(records: Buffer): void {
    this.writeAt(records, this.offset);
    this.offset += records.length;
    this.allocated = Math.max(this.allocated, this.offset);
  }

  private writeAt(bytes: Uint8Array, at: number): void {
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
  }

  /** Flushes what was written, off the main thread. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (e) => (e ? reject(e) : resolve())));
  }

  syncNow(): void {
    fdatasyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
