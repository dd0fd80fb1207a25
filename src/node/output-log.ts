/**
 * A session's output log: every byte the program printed, as a cursor-addressed stream.
 *
 * Offsets count bytes since the session started; clients resume from an offset. The log is
 * bounded: two files, `output.log` (newest) and `output.log.1` (older); when the newest passes
 * half the cap it replaces the older one, so at most `maxBytes` stay on disk. Each file covers
 * a contiguous range of offsets, recorded in `output.base`. When the disk refuses a write the
 * bytes are skipped (a gap in the offsets) rather than shifting everything after them, so
 * clients following live see every byte and readers of the log simply skip the hole.
 * Reads only touch the range asked for, never the whole file.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

const NEWLINE = 0x0a;

interface Segment {
  path: string;
  start: number;
  size: number;
}

export class OutputLog {
  readonly path: string;
  private readonly oldPath: string;
  private readonly metaPath: string;
  private fd: number | undefined;
  private old: Segment;
  private cur: Segment;
  /** Set while the disk refuses writes; output still reaches clients live. */
  writeError: string | undefined;

  constructor(dir: string, private readonly maxBytes: number) {
    this.path = join(dir, "output.log");
    this.oldPath = join(dir, "output.log.1");
    this.metaPath = join(dir, "output.base");
    let meta = { old_start: 0, cur_start: 0 };
    try {
      meta = { ...meta, ...JSON.parse(readFileSync(this.metaPath, "utf8")) };
    } catch {
      /* a new log */
    }
    const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
    this.old = { path: this.oldPath, start: meta.old_start, size: size(this.oldPath) };
    this.cur = { path: this.path, start: Math.max(meta.cur_start, meta.old_start + this.old.size), size: size(this.path) };
    // The file exists from the start, also for a program that never prints: the data directory's
    // layout promises it, and `cw status` shows its path.
    if (this.cur.size === 0 && !existsSync(this.path)) {
      try {
        closeSync(openSync(this.path, "a", 0o600));
      } catch {
        /* a full or read-only disk: the first write will try again */
      }
    }
  }

  /** Offset one past the last byte produced. */
  get end(): number {
    return this.cur.start + this.cur.size;
  }

  /** Oldest offset that may still be readable. */
  get start(): number {
    return this.old.size > 0 ? this.old.start : this.cur.start;
  }

  append(bytes: Uint8Array): void {
    const at = this.end;
    try {
      if (this.cur.size + bytes.length > this.maxBytes / 2 && this.cur.size > 0) this.rotate(this.end);
      this.fd ??= openSync(this.path, "a", 0o600);
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
      this.cur.size += bytes.length;
      this.writeError = undefined;
    } catch (e) {
      this.writeError = (e as Error).message;
      this.skip(at, bytes.length);
    }
  }

  /** The bytes at [at, at+n) could not be stored: keep what reached the file, open a gap. */
  private skip(at: number, n: number) {
    let written = this.cur.size;
    try {
      if (this.fd !== undefined) written = fstatSync(this.fd).size;
    } catch {
      /* keep our count */
    }
    this.cur.size = Math.min(written, at - this.cur.start + n);
    const next = at + n;
    try {
      if (this.cur.size > 0) this.rotate(next);
      else {
        this.cur.start = next;
        this.saveMeta();
      }
    } catch {
      // Even the rename/metadata failed: track the gap in memory only.
      this.closeFd();
      this.cur = { path: this.path, start: next, size: 0 };
    }
  }

  /** The newest file becomes the older one; a new newest starts at offset `nextStart`. */
  private rotate(nextStart: number) {
    this.closeFd();
    renameSync(this.path, this.oldPath);
    this.old = { path: this.oldPath, start: this.cur.start, size: this.cur.size };
    this.cur = { path: this.path, start: nextStart, size: 0 };
    this.saveMeta();
  }

  private saveMeta() {
    try {
      writeFileSync(this.metaPath, JSON.stringify({ old_start: this.old.start, cur_start: this.cur.start }), { mode: 0o600 });
    } catch {
      /* best effort: a full disk */
    }
  }

  private closeFd() {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  close(): void {
    this.closeFd();
  }

  /**
   * The first stored bytes at or after `from`, up to `to`: `offset` is where they start (past
   * any gap). Empty bytes with offset `to` mean nothing is stored in the range.
   */
  readAt(from: number, to = this.end): { offset: number; bytes: Uint8Array } {
    for (const seg of [this.old, this.cur]) {
      const s = Math.max(from, seg.start);
      const e = Math.min(to, seg.start + seg.size);
      if (e <= s) continue;
      const bytes = new Uint8Array(e - s);
      const n = readFile(seg.path, s - seg.start, bytes);
      return { offset: s, bytes: n === bytes.length ? bytes : bytes.subarray(0, n) };
    }
    return { offset: Math.max(from, to), bytes: new Uint8Array(0) };
  }

  /** All stored bytes in [from, to), gaps left out. */
  read(from: number, to = this.end): Uint8Array {
    const parts: Uint8Array[] = [];
    let at = from;
    while (at < to) {
      const r = this.readAt(at, to);
      if (r.bytes.length === 0) break;
      parts.push(r.bytes);
      at = r.offset + r.bytes.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
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
    let seen = 0;
    const block = 64 * 1024;
    for (const seg of [this.cur, this.old]) {
      let pos = seg.start + seg.size;
      while (pos > seg.start) {
        const from = Math.max(seg.start, pos - block);
        const chunk = new Uint8Array(pos - from);
        readFile(seg.path, from - seg.start, chunk);
        for (let i = chunk.length - 1; i >= 0; i--) {
          // A trailing newline ends the last line rather than starting an empty one.
          if (chunk[i] !== NEWLINE || from + i === end - 1) continue;
          if (++seen === lines) return from + i + 1;
        }
        pos = from;
      }
    }
    return this.start;
  }
}

function readFile(path: string, position: number, into: Uint8Array): number {
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
