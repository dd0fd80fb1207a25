/**
 * A session's output log: every byte the program printed, as a cursor-addressed stream.
 *
 * Offsets count bytes since the session started. The log is bounded: it lives in two files,
 * `output.log` (newest) and `output.log.1` (older); when the newest passes half the cap it
 * replaces the older one, so at most `maxBytes` stay on disk. `output.base` records the offset
 * at which `output.log.1` starts. Reads only touch the range asked for, never the whole file.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

const NEWLINE = 0x0a;

export class OutputLog {
  readonly path: string;
  private readonly oldPath: string;
  private readonly basePath: string;
  private fd: number | undefined;
  /** Offset of the first byte of output.log.1 (or of output.log when there is no .1). */
  private base = 0;
  private oldSize = 0;
  private curSize = 0;
  /** Set when the disk refused a write; output still reaches clients. */
  writeError: string | undefined;

  constructor(dir: string, private readonly maxBytes: number) {
    this.path = join(dir, "output.log");
    this.oldPath = join(dir, "output.log.1");
    this.basePath = join(dir, "output.base");
    if (existsSync(this.basePath)) this.base = Number(readFileSync(this.basePath, "utf8")) || 0;
    if (existsSync(this.oldPath)) this.oldSize = statSync(this.oldPath).size;
    if (existsSync(this.path)) this.curSize = statSync(this.path).size;
  }

  /** Offset one past the last byte written. */
  get end(): number {
    return this.base + this.oldSize + this.curSize;
  }

  /** Oldest offset still readable. */
  get start(): number {
    return this.base;
  }

  append(bytes: Uint8Array): void {
    try {
      if (this.curSize + bytes.length > this.maxBytes / 2 && this.curSize > 0) this.rotate();
      this.fd ??= openSync(this.path, "a", 0o600);
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
      this.curSize += bytes.length;
      this.writeError = undefined;
    } catch (e) {
      // Full disk or similar: the session keeps running and clients still get its output live;
      // the log just misses these bytes (status reports the error). Resync our size with what
      // actually reached the file.
      this.writeError = (e as Error).message;
      this.resyncSize();
    }
  }

  private resyncSize() {
    if (this.fd !== undefined) {
      try {
        this.curSize = fstatSync(this.fd).size;
      } catch {
        /* keep the count */
      }
    }
  }

  private rotate() {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const newBase = this.base + this.oldSize;
    // Record the new base first: if we crash between the two steps, reads are merely short.
    writeFileSync(this.basePath, String(newBase), { mode: 0o600 });
    renameSync(this.path, this.oldPath);
    this.base = newBase;
    this.oldSize = this.curSize;
    this.curSize = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Bytes in [from, to) that are still on disk, clamped to what exists. */
  read(from: number, to = this.end): Uint8Array {
    from = Math.max(from, this.start);
    to = Math.min(to, this.end);
    if (to <= from) return new Uint8Array(0);
    const out = new Uint8Array(to - from);
    let filled = 0;
    const oldEnd = this.base + this.oldSize;
    if (from < oldEnd) filled += this.readFile(this.oldPath, from - this.base, out.subarray(0, Math.min(oldEnd, to) - from));
    if (to > oldEnd) {
      const s = Math.max(from, oldEnd);
      filled += this.readFile(this.path, s - oldEnd, out.subarray(s - from));
    }
    return filled === out.length ? out : out.subarray(0, filled);
  }

  private readFile(path: string, position: number, into: Uint8Array): number {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch {
      return 0;
    }
    try {
      let n = 0;
      while (n < into.length) {
        const r = readSync(fd, into, n, into.length - n, position + n);
        if (r <= 0) break;
        n += r;
      }
      return n;
    } finally {
      closeSync(fd);
    }
  }

  /** The last `bytes` bytes (or fewer). */
  tail(bytes: number): { bytes: Uint8Array; end: number } {
    const end = this.end;
    return { bytes: this.read(end - bytes, end), end };
  }

  /**
   * Offset where the last `lines` lines begin, found by reading backwards in blocks: the cost is
   * proportional to what is returned, not to the log's size.
   */
  offsetOfLastLines(lines: number): number {
    const end = this.end;
    let pos = end;
    let seen = 0;
    const block = 64 * 1024;
    // A trailing newline ends the last line rather than starting an empty one.
    let skipTrailing = true;
    while (pos > this.start) {
      const from = Math.max(this.start, pos - block);
      const chunk = this.read(from, pos);
      for (let i = chunk.length - 1; i >= 0; i--) {
        if (chunk[i] !== NEWLINE) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing && from + i === end - 1) continue;
        seen++;
        if (seen === lines) return from + i + 1;
      }
      pos = from;
    }
    return this.start;
  }
}
