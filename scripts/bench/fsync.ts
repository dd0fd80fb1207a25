/**
 * What one durable write costs on this disk, the floor under the messaging rate: a ~200-byte
 * record written, then fdatasync, in the ways a message store can do it:
 *  - append: the file grows, so fdatasync must also flush its size (a journal commit on ext4);
 *  - overwrite (zeroed): space written with zeros beforehand and flushed; the record overwrites
 *    it, so only data goes to the disk;
 *  - overwrite (fallocate): space reserved with fallocate(2) but never written; ext4 marks such
 *    extents unwritten, and the first write into them changes metadata again;
 *  - SQLite WAL, synchronous=FULL: an INSERT's commit flushes the WAL itself;
 *  - SQLite WAL, synchronous=NORMAL + fdatasync of the -wal file (the store before this change).
 * Run: bun scripts/bench/fsync.ts   (BENCH_FSYNCS sets the count per way; default 300)
 */
import { Database } from "bun:sqlite";
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FFIType } from "bun:ffi";
import { openLibc } from "../../src/sys/libc";

const N = Number(process.env.BENCH_FSYNCS ?? 300);
const dir = mkdtempSync(join(tmpdir(), "cw-bench-fsync-"));
const record = Buffer.alloc(200, "m");
const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

function time(write: (i: number) => void): number[] {
  const t: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    write(i);
    t.push(performance.now() - s);
  }
  return t;
}

const libc = openLibc({ fallocate: { args: [FFIType.i32, FFIType.i32, FFIType.i64, FFIType.i64], returns: FFIType.i32 } });
const results: Record<string, number[]> = {};
try {
  {
    const fd = openSync(join(dir, "append"), "w");
    results["append + fdatasync"] = time(() => {
      writeSync(fd, record);
      fdatasyncSync(fd);
    });
    closeSync(fd);
  }
  {
    const fd = openSync(join(dir, "zeroed"), "w");
    writeSync(fd, Buffer.alloc(N * record.length + 4096));
    fdatasyncSync(fd);
    results["overwrite zeroed + fdatasync"] = time((i) => {
      writeSync(fd, record, 0, record.length, i * record.length);
      fdatasyncSync(fd);
    });
    closeSync(fd);
  }
  if (libc) {
    const fd = openSync(join(dir, "fallocated"), "w");
    if ((libc.fn.fallocate!(fd, 0, 0, N * record.length + 4096) as number) !== 0) throw new Error(`fallocate: errno ${libc.errno()}`);
    fdatasyncSync(fd);
    results["overwrite fallocated + fdatasync"] = time((i) => {
      writeSync(fd, record, 0, record.length, i * record.length);
      fdatasyncSync(fd);
    });
    closeSync(fd);
  }
  for (const mode of ["FULL", "NORMAL"] as const) {
    const path = join(dir, `sqlite-${mode}.db`);
    const db = new Database(path, { create: true });
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${mode}; CREATE TABLE m (seq INTEGER PRIMARY KEY, body TEXT)`);
    const insert = db.query("INSERT INTO m (body) VALUES (?)");
    const body = record.toString();
    insert.run(body);
    const wal = openSync(`${path}-wal`, "r");
    results[mode === "FULL" ? "SQLite WAL synchronous=FULL" : "SQLite WAL NORMAL + fdatasync(-wal)"] = time(() => {
      insert.run(body);
      if (mode === "NORMAL") fdatasyncSync(wal);
    });
    closeSync(wal);
    db.close();
  }
  console.log(`one durable ~200-byte write on this disk (${N} each), ms`);
  console.log(`  ${"way".padEnd(38)} ${"p50".padStart(6)} ${"p90".padStart(6)} ${"p99".padStart(6)}  writes/s`);
  for (const [k, t] of Object.entries(results)) {
    const mean = t.reduce((a, b) => a + b, 0) / t.length;
    console.log(`  ${k.padEnd(38)} ${pct(t, 50).toFixed(3).padStart(6)} ${pct(t, 90).toFixed(3).padStart(6)} ${pct(t, 99).toFixed(3).padStart(6)}  ${Math.round(1000 / mean)}`);
  }
  if (process.argv.includes("--json")) console.log(JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, t]) => [k, +pct(t, 50).toFixed(3)]))));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
