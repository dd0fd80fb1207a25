/**
 * A key-value store in SQLite: namespaces, optional TTL, prefix listing in pages, set-if-absent
 * and compare-and-delete. The node keeps one in kv.db for `cw kv` without a relay; the relay
 * keeps the shared one in its own database, with a quota per namespace.
 *
 * Each conditional operation is one SQL statement, so it is atomic however many clients race
 * (the only writer is the one process holding the database: the node, or the relay). An expired
 * key counts as absent everywhere, even before it is swept.
 */
import { Database, type Statement } from "bun:sqlite";
import type { KVEntry } from "../protocol";
import { openPrivateDatabase } from "./private-db";

/** What a namespace may hold; a set that would pass either limit is refused. */
export interface KvQuota {
  keys: number;
  bytes: number;
}

export type KvSetResult = { stored: true } | { stored: false; reason: "exists" } | { stored: false; reason: "quota"; limit: "keys" | "bytes"; quota: KvQuota };

export interface KvListOptions {
  /** At most this many entries. */
  limit: number;
  /** Only keys after this one (the last key of the previous page). */
  after?: string;
  /** Include values; a page then also stops once it holds about `maxBytes` of them. */
  values: boolean;
  maxBytes?: number;
}

/** A listed entry: its value only when asked for. */
export type KvListed = Omit<KVEntry, "value"> & { value?: string };

export interface KvPage {
  entries: KvListed[];
  /** The key to continue after, or null when this page is the last. */
  next: string | null;
}

type Row = { key: string; value: string; expires_at: number | null };

/** Removing every expired key (through kv_expires where the relay made that index). */
export const KV_SWEEP = "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?";

export interface KvStoreOptions {
  /** What each namespace may hold (the relay's); none for the node's own store. */
  quota?: KvQuota;
  /**
   * Hold the database for this process alone (PRAGMA locking_mode = EXCLUSIVE): no file lock is
   * taken and released around each read and write, about 2 us of system calls a request on the
   * relay; another process cannot open kv.db meanwhile (a second relay on the data dir fails
   * instead of sharing it).
   */
  exclusive?: boolean;
  /** Index keys by expiry, so that sweeping reads only the expired rows (the relay's, swept on a timer). */
  expiryIndex?: boolean;
}

const UPSERT = "INSERT INTO kv (ns, key, value, expires_at) VALUES ($ns, $key, $value, $expires) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at";

export class KvStore {
  private db: Database;
  // Prepared once: the relay sets and gets thousands of keys a second, and building a transaction
  // wrapper (bun:sqlite defines four functions' properties each time) or the SQL per call cost
  // more than the statements themselves.
  private readonly upsert: Statement;
  /** The conflict clause overwrites only an expired row. */
  private readonly insertIfAbsent: Statement;
  /** With a quota: a namespace's usage and this key's current size, in one step. */
  private readonly usage: Statement | undefined;
  private readonly select: Statement;
  private readonly setTx: (ns: string, key: string, value: string, expires: number | null, now: number, ifAbsent: boolean) => KvSetResult;
  private readonly batchTx: (fn: () => void) => void;

  private readonly quota: KvQuota | undefined;

  constructor(path: string, opts: KvStoreOptions = {}) {
    this.quota = opts.quota;
    // The values are whatever sessions put there: readable by this user only.
    this.db = openPrivateDatabase(path);
    if (opts.exclusive) this.db.exec("PRAGMA locking_mode = EXCLUSIVE");
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    this.db.exec("CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER, PRIMARY KEY (ns, key))");
    if (opts.expiryIndex) this.db.exec("CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL");
    const quota = this.quota;
    if (quota) this.keepUsage();
    this.upsert = this.db.query(UPSERT);
    this.insertIfAbsent = this.db.query(`${UPSERT} WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= $now`);
    // octet_length reads a value's size from its record header, not the value itself.
    this.usage = quota
      ? this.db.query(
          "SELECT coalesce((SELECT keys FROM kv_usage WHERE ns = $ns), 0) AS keys, coalesce((SELECT bytes FROM kv_usage WHERE ns = $ns), 0) AS bytes, (SELECT octet_length(value) FROM kv WHERE ns = $ns AND key = $key) AS mine",
        )
      : undefined;
    this.select = this.db.query(`SELECT key, value, expires_at FROM kv WHERE ns = $ns AND key = $key AND ${this.live}`);
    this.setTx = this.db.transaction(this.setNow.bind(this)).immediate;
    this.batchTx = this.db.transaction((fn: () => void) => fn()).immediate;
  }

  /**
   * Each namespace's keys and bytes, kept by triggers, so that checking a quota reads one row
   * instead of scanning the namespace on every set. Rows expired but not yet swept count until
   * they are; a set that finds its namespace full sweeps it first.
   */
  private keepUsage(): void {
    this.db
      .transaction(() => {
        const fresh = this.db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv_usage'").get() === null;
        this.db.exec(`
          CREATE TABLE IF NOT EXISTS kv_usage (ns TEXT PRIMARY KEY, keys INTEGER NOT NULL, bytes INTEGER NOT NULL);
          CREATE TRIGGER IF NOT EXISTS kv_usage_insert AFTER INSERT ON kv BEGIN
            INSERT INTO kv_usage (ns, keys, bytes) VALUES (new.ns, 1, octet_length(new.value))
              ON CONFLICT (ns) DO UPDATE SET keys = keys + 1, bytes = bytes + octet_length(new.value);
          END;
          CREATE TRIGGER IF NOT EXISTS kv_usage_delete AFTER DELETE ON kv BEGIN
            UPDATE kv_usage SET keys = keys - 1, bytes = bytes - octet_length(old.value) WHERE ns = old.ns;
          END;
          CREATE TRIGGER IF NOT EXISTS kv_usage_update AFTER UPDATE OF value ON kv BEGIN
            UPDATE kv_usage SET bytes = bytes - octet_length(old.value) + octet_length(new.value) WHERE ns = new.ns;
          END;
        `);
        // A database from before the quota: count what it holds, once.
        if (fresh) this.db.exec("INSERT INTO kv_usage (ns, keys, bytes) SELECT ns, count(*), coalesce(sum(octet_length(value)), 0) FROM kv GROUP BY ns");
      })
      .immediate();
  }

  private live = "(expires_at IS NULL OR expires_at > $now)";

  /**
   * Stores `value`. With `ifAbsent`, only when the key is absent or expired: one INSERT whose
   * conflict clause overwrites only an expired row, so of any number of racing callers exactly
   * one is told `stored`.
   */
  set(ns: string, key: string, value: string, ttlS?: number, opts: { ifAbsent?: boolean } = {}): KvSetResult {
    const now = Date.now();
    const expires = ttlS !== undefined ? now + Math.round(ttlS * 1000) : null;
    // Inside a batch (the relay's group commit) it needs no savepoint of its own: a quota check
    // only reads, or sweeps rows that count as absent anyway, and the INSERT is one statement,
    // whole or not at all.
    return (this.db.inTransaction ? this.setNow : this.setTx).call(this, ns, key, value, expires, now, opts.ifAbsent === true);
  }

  private setNow(ns: string, key: string, value: string, expires: number | null, now: number, ifAbsent: boolean): KvSetResult {
    const over = this.overQuota(ns, key, value, now);
    if (over) return over;
    const r = ifAbsent ? this.insertIfAbsent.run({ ns, key, value, expires, now }) : this.upsert.run({ ns, key, value, expires });
    return r.changes === 1 ? { stored: true } : { stored: false, reason: "exists" };
  }

  /** Whether storing `value` under `key` would take the namespace past its quota. */
  private overQuota(ns: string, key: string, value: string, now: number): KvSetResult | null {
    const quota = this.quota;
    if (!quota || !this.usage) return null;
    const usage = this.usage;
    const after = () => {
      const u = usage.get({ ns, key }) as { keys: number; bytes: number; mine: number | null };
      return { keys: u.keys + (u.mine === null ? 1 : 0), bytes: u.bytes - (u.mine ?? 0) + Buffer.byteLength(value) };
    };
    let u = after();
    if (u.keys > quota.keys || u.bytes > quota.bytes) {
      // Expired rows still count until swept: sweep this namespace's, then judge.
      this.db.query("DELETE FROM kv WHERE ns = ? AND expires_at IS NOT NULL AND expires_at <= ?").run(ns, now);
      u = after();
    }
    if (u.keys > quota.keys) return { stored: false, reason: "quota", limit: "keys", quota };
    if (u.bytes > quota.bytes) return { stored: false, reason: "quota", limit: "bytes", quota };
    return null;
  }

  /**
   * Runs `fn` in one immediate transaction: the writes it makes through this store commit
   * together (the relay's group commit, kv-batch.ts).
   */
  batch(fn: () => void): void {
    this.batchTx(fn);
  }

  get(ns: string, key: string): KVEntry | null {
    const r = this.select.get({ ns, key, now: Date.now() }) as Row | null;
    return r ? entry(r) : null;
  }

  /**
   * Deletes a live key; with `ifValue`, only while it holds exactly that value (a lock's holder
   * releases its own lock, never the next holder's). True when a live key was deleted.
   */
  delete(ns: string, key: string, opts: { ifValue?: string } = {}): boolean {
    const now = Date.now();
    const cond = opts.ifValue !== undefined ? " AND value = $value" : "";
    const deleted = this.db.query(`DELETE FROM kv WHERE ns = $ns AND key = $key AND ${this.live}${cond}`).run({ ns, key, now, ...(opts.ifValue !== undefined ? { value: opts.ifValue } : {}) }).changes > 0;
    // An expired row left behind is swept here too; it counted as absent either way.
    if (!deleted) this.db.query("DELETE FROM kv WHERE ns = $ns AND key = $key AND expires_at IS NOT NULL AND expires_at <= $now").run({ ns, key, now });
    return deleted;
  }

  /** Everything under `prefix`, values included (the node-local store: its owner's own data). */
  list(ns: string, prefix: string): KVEntry[] {
    return this.page(ns, prefix, { limit: Number.MAX_SAFE_INTEGER, values: true }).entries as KVEntry[];
  }

  /** One page of the keys under `prefix`, in key order. */
  page(ns: string, prefix: string, opts: KvListOptions): KvPage {
    const now = Date.now();
    this.sweep(now);
    // Prefix match without LIKE, so % and _ in keys are not wildcards.
    const cols = opts.values ? "key, value, expires_at" : "key, expires_at";
    const after = opts.after !== undefined ? "AND key > $after" : "";
    const stmt = this.db.query(`SELECT ${cols} FROM kv WHERE ns = $ns AND substr(key, 1, length($prefix)) = $prefix ${after} AND ${this.live} ORDER BY key LIMIT $limit`);
    const entries: KvListed[] = [];
    let bytes = 0;
    let more = false;
    // One row more than the page, to know whether another page follows.
    for (const r of stmt.iterate({ ns, prefix, now, limit: Math.min(opts.limit, Number.MAX_SAFE_INTEGER - 1) + 1, ...(opts.after !== undefined ? { after: opts.after } : {}) }) as Iterable<Row>) {
      if (entries.length >= opts.limit || (opts.maxBytes !== undefined && entries.length > 0 && bytes >= opts.maxBytes)) {
        more = true;
        break;
      }
      entries.push(opts.values ? entry(r) : { key: r.key, expires_at: iso(r.expires_at) });
      if (opts.values) bytes += Buffer.byteLength(r.value);
    }
    return { entries, next: more ? entries[entries.length - 1]!.key : null };
  }

  /** Removes the keys expired by `now`; how many. */
  sweep(now: number): number {
    return this.db.query(KV_SWEEP).run(now).changes;
  }

  /** Copies the WAL into the database and flushes both (when the WAL itself cannot be flushed). */
  checkpoint(): void {
    this.db.exec("PRAGMA wal_checkpoint(FULL)");
  }

  /** Live keys in every namespace (cw setup says how many stay behind when a relay takes over). */
  count(): number {
    return (this.db.query(`SELECT COUNT(*) AS n FROM kv WHERE ${this.live}`).get({ now: Date.now() }) as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

function iso(ms: number | null): string | null {
  return ms ? new Date(ms).toISOString() : null;
}

function entry(r: Row): KVEntry {
  return { key: r.key, value: r.value, expires_at: iso(r.expires_at) };
}
