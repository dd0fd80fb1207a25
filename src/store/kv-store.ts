/**
 * A key-value store in SQLite: namespaces, optional TTL, prefix listing. The node keeps one in
 * kv.db for `cw kv` without a relay; the relay keeps the shared one in its own database.
 */
import { Database } from "bun:sqlite";
import type { KVEntry } from "../protocol";

export class KvStore {
  private db: Database;

  constructor(path: string) {
    this.db = new Database(path, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    this.db.exec("CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER, PRIMARY KEY (ns, key))");
  }

  private live = "(expires_at IS NULL OR expires_at > $now)";

  set(ns: string, key: string, value: string, ttlS?: number): void {
    const expires = ttlS ? Date.now() + Math.round(ttlS * 1000) : null;
    this.db.query("INSERT INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at").run(ns, key, value, expires);
  }

  get(ns: string, key: string): KVEntry | null {
    const r = this.db.query(`SELECT key, value, expires_at FROM kv WHERE ns = $ns AND key = $key AND ${this.live}`).get({ ns, key, now: Date.now() }) as { key: string; value: string; expires_at: number | null } | null;
    return r ? entry(r) : null;
  }

  delete(ns: string, key: string): boolean {
    // An expired key counts as absent.
    const existed = this.get(ns, key) !== null;
    this.db.query("DELETE FROM kv WHERE ns = ? AND key = ?").run(ns, key);
    return existed;
  }

  list(ns: string, prefix: string): KVEntry[] {
    this.db.query("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?").run(Date.now());
    // Prefix match without LIKE, so % and _ in keys are not wildcards.
    const rows = this.db.query(`SELECT key, value, expires_at FROM kv WHERE ns = $ns AND substr(key, 1, length($prefix)) = $prefix AND ${this.live} ORDER BY key`).all({ ns, prefix, now: Date.now() }) as { key: string; value: string; expires_at: number | null }[];
    return rows.map(entry);
  }

  /** Live keys in every namespace (cw setup says how many stay behind when a relay takes over). */
  count(): number {
    return (this.db.query(`SELECT COUNT(*) AS n FROM kv WHERE ${this.live}`).get({ now: Date.now() }) as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

function entry(r: { key: string; value: string; expires_at: number | null }): KVEntry {
  return { key: r.key, value: r.value, expires_at: r.expires_at ? new Date(r.expires_at).toISOString() : null };
}
