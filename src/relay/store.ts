/**
 * The relay's state in SQLite (`<data dir>/relay.db`): registered nodes, invites and the admin
 * token. Tokens are stored only as SHA-256 hashes: a copy of the database (a backup, a stolen
 * disk) lets nobody act as a node or as the operator. The shared key-value store lives next to
 * it in kv.db (the same KvStore a node uses for `cw kv`).
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { KvStore } from "../store/kv-store";
import { newToken, sha256 } from "../sys/secrets";

export interface NodeRow {
  name: string;
  registered_at: string;
  last_seen_at: string | null;
}

export type RedeemResult = { token: string } | { error: "name_taken" | "invalid_invite" };

export interface RelayStoreOptions {
  /** The clock, in ms since the epoch; tests move it to expire invites without waiting. */
  now?: () => number;
}

export class RelayStore {
  readonly kv: KvStore;
  private db: Database;
  private now: () => number;

  constructor(dataDir: string, opts: RelayStoreOptions = {}) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.now = opts.now ?? Date.now;
    this.db = new Database(join(dataDir, "relay.db"), { create: true, strict: true });
    // FULL: a node told "registered" must still be registered after a power cut.
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
      CREATE TABLE IF NOT EXISTS nodes (name TEXT PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE, registered_at TEXT, last_seen_at TEXT NULL);
      CREATE TABLE IF NOT EXISTS invites (token_hash BLOB PRIMARY KEY, created_at TEXT, expires_at INTEGER, uses_left INTEGER);
    `);
    this.kv = new KvStore(join(dataDir, "kv.db"));
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * Registers `name` with a new token and returns it (the only time it exists in plaintext). An
   * existing name gets a new token, which invalidates the old one: that is rotation.
   */
  registerNode(name: string): string {
    const token = newToken();
    this.db
      .query("INSERT INTO nodes (name, token_hash, registered_at, last_seen_at) VALUES (?, ?, ?, NULL) ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, registered_at = excluded.registered_at")
      .run(name, sha256(token), this.iso());
    return token;
  }

  /**
   * Registers a new node with an invite, in one transaction: a taken name leaves the invite
   * unused, and two redeemers of the last use cannot both succeed.
   */
  redeemInvite(name: string, invite: string): RedeemResult {
    return this.db
      .transaction((): RedeemResult => {
        if (this.hasNode(name)) return { error: "name_taken" };
        if (!this.consumeInvite(invite)) return { error: "invalid_invite" };
        return { token: this.registerNode(name) };
      })
      .immediate();
  }

  hasNode(name: string): boolean {
    return this.db.query("SELECT 1 FROM nodes WHERE name = ?").get(name) !== null;
  }

  nodeByTokenHash(hash: Uint8Array): NodeRow | null {
    return this.db.query("SELECT name, registered_at, last_seen_at FROM nodes WHERE token_hash = ?").get(hash) as NodeRow | null;
  }

  listNodes(): NodeRow[] {
    return this.db.query("SELECT name, registered_at, last_seen_at FROM nodes ORDER BY name").all() as NodeRow[];
  }

  deleteNode(name: string): boolean {
    return this.db.query("DELETE FROM nodes WHERE name = ?").run(name).changes > 0;
  }

  touchNode(name: string): void {
    this.db.query("UPDATE nodes SET last_seen_at = ? WHERE name = ?").run(this.iso(), name);
  }

  /** A new invite good for `uses` registrations within `ttlS` seconds; the plaintext is returned once. */
  createInvite(uses: number, ttlS: number): { invite: string; expiresAt: Date } {
    const invite = newToken();
    const expires = this.now() + ttlS * 1000;
    this.db.query("INSERT INTO invites (token_hash, created_at, expires_at, uses_left) VALUES (?, ?, ?, ?)").run(sha256(invite), this.iso(), expires, uses);
    return { invite, expiresAt: new Date(expires) };
  }

  /** Uses up one use of an invite; false when it is unknown, expired or used up. */
  consumeInvite(invite: string): boolean {
    return this.db
      .transaction(() => {
        const now = this.now();
        const ok = this.db.query("UPDATE invites SET uses_left = uses_left - 1 WHERE token_hash = ? AND uses_left > 0 AND expires_at > ?").run(sha256(invite), now).changes === 1;
        // Dead invites are never useful again; forget them.
        this.db.query("DELETE FROM invites WHERE uses_left <= 0 OR expires_at <= ?").run(now);
        return ok;
      })
      .immediate();
  }

  adminTokenHash(): Buffer | null {
    const r = this.db.query("SELECT value FROM meta WHERE key = 'admin_token_hash'").get() as { value: Uint8Array } | null;
    return r ? Buffer.from(r.value) : null;
  }

  setAdminTokenHash(hash: Uint8Array): void {
    this.db.query("INSERT INTO meta (key, value) VALUES ('admin_token_hash', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(hash);
  }

  close(): void {
    this.kv.close();
    this.db.close();
  }
}
