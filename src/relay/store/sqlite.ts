/**
 * The relay's state in SQLite (`<data dir>/relay.db`), the engine for a single relay: registered
 * nodes, invites, device authorization requests and the admin token. Tokens are stored only as
 * SHA-256 hashes: a copy of the database (a backup, a stolen disk) lets nobody act as a node or
 * as the operator. The shared key-value store lives next to it in kv.db (the same KvStore a node
 * uses for `cw kv`). The methods are async only to share the interface with PostgreSQL: each
 * runs to its end at once, and its transaction with it.
 */
import { Database } from "bun:sqlite";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KVEntry } from "../../protocol";
import { KV_NS_MAX_BYTES, KV_NS_MAX_KEYS } from "../../protocol/relay-api";
import { KV_SWEEP, type KvListOptions, type KvPage, KvStore, type KvSetResult } from "../../store/kv-store";
import { openPrivateDatabase } from "../../store/private-db";
import { newToken, sha256 } from "../../sys/secrets";
import { DEVICE_KEEP_EXPIRED_MS, newUserCode } from "./common";
import { KvWriteBatches } from "./kv-batch";
import { SqliteWebSignIns, WEB_SIGNIN_TABLES_SQLITE, type WebSignInRecords } from "./web-signins";
import type { DeviceCreateResult, DevicePending, DevicePollResult, NodeRow, Readiness, RedeemResult, RelayKv, RelayStore, RelayStoreOptions, UserRow } from "./interface";

/**
 * relay.db's schema, one step per version (PRAGMA user_version says which are done). Step 1 is
 * the schema relays had before versions, written so that it also brings any of their databases
 * up to date. Only one process opens a SQLite relay, so no lock is needed beyond the transaction.
 */
const MIGRATIONS: ((db: Database) => void)[] = [
  (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
      CREATE TABLE IF NOT EXISTS nodes (name TEXT PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE, registered_at TEXT, last_seen_at TEXT NULL);
      CREATE TABLE IF NOT EXISTS invites (token_hash BLOB PRIMARY KEY, created_at TEXT, expires_at INTEGER, uses_left INTEGER);
      CREATE TABLE IF NOT EXISTS device_requests (
        device_hash BLOB PRIMARY KEY,
        user_code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied'))
      );
    `);
    // Older relays' tables lack the requester's address: add it (NULL for requests made before).
    const cols = db.query("SELECT name FROM pragma_table_info('device_requests')").all() as { name: string }[];
    if (!cols.some((c) => c.name === "source")) db.exec("ALTER TABLE device_requests ADD COLUMN source TEXT NULL");
  },
  // Sweeping expired requests reads the index, not the table.
  (db) => db.exec("CREATE INDEX IF NOT EXISTS device_requests_expires ON device_requests (expires_at)"),
  // User tokens and grants between nodes.
  (db) =>
    db.exec(`
      CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE, created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS grants (from_node TEXT NOT NULL, to_node TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (from_node, to_node));
    `),
  // The web app's sign-ins, kept here rather than in the relay's memory (web-signins.ts).
  (db) => db.exec(WEB_SIGNIN_TABLES_SQLITE),
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** The sweep of expired keys (KvStore's, before a listing and on a timer): through kv_expires. */
export const SQLITE_KV_SWEEP = KV_SWEEP;

function migrate(db: Database): void {
  db.transaction(() => {
    const { user_version: done } = db.query("PRAGMA user_version").get() as { user_version: number };
    if (done > MIGRATIONS.length) throw new Error(`relay.db has schema version ${done}, newer than this cw knows (${MIGRATIONS.length}); run the newer cw, or restore a backup`);
    for (let v = done; v < MIGRATIONS.length; v++) MIGRATIONS[v]!(db);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** The synchronous engine: each method one SQLite transaction. SqliteRelayStore wraps it. */
class SqliteCore {
  readonly kv: KvStore;
  /** Sets and deletes of the KV: one transaction and one flush for all that arrive together. */
  readonly kvWrites: KvWriteBatches;
  private db: Database;
  private now: () => number;
  readonly webSignIns: WebSignInRecords;

  constructor(dataDir: string, opts: RelayStoreOptions = {}) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // mkdir's mode applies only to a directory it makes: one that existed keeps its own.
    chmodSync(dataDir, 0o700);
    this.now = opts.now ?? Date.now;
    this.db = openPrivateDatabase(join(dataDir, "relay.db"));
    // FULL: a node told "registered" must still be registered after a power cut.
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    migrate(this.db);
    // kv.db is the node's KvStore, held by this process alone, with its keys indexed by expiry
    // so that sweeping (before each listing, and sweepKv on a timer) reads only expired rows.
    this.kv = new KvStore(join(dataDir, "kv.db"), { quota: opts.kvQuota ?? { keys: KV_NS_MAX_KEYS, bytes: KV_NS_MAX_BYTES }, exclusive: true, expiryIndex: true });
    this.kvWrites = new KvWriteBatches(join(dataDir, "kv.db"), () => this.kv.checkpoint(), (fn) => this.kv.batch(fn));
    this.webSignIns = new SqliteWebSignIns(this.db, this.now);
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
   * unused, and two redeemers of the last use cannot both succeed. The invite is checked first:
   * without a valid one, nobody learns whether a name is registered.
   */
  redeemInvite(name: string, invite: string): RedeemResult {
    return this.db
      .transaction((): RedeemResult => {
        const valid = this.db.query("SELECT 1 FROM invites WHERE token_hash = ? AND uses_left > 0 AND expires_at > ?").get(sha256(invite), this.now()) !== null;
        if (!valid) return { error: "invalid_invite" };
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

  /** Removes a node, and the grants to and from it (a later node of that name starts with none). */
  deleteNode(name: string): boolean {
    return this.db
      .transaction(() => {
        this.db.query("DELETE FROM grants WHERE from_node = ? OR to_node = ?").run(name, name);
        return this.db.query("DELETE FROM nodes WHERE name = ?").run(name).changes > 0;
      })
      .immediate();
  }

  // User tokens: what people and their CLIs act with (the admin token aside). A node's token
  // lets it be that node; a user token reaches every node. Issued by `cw setup` with the admin
  // token, by an approved device request, or by the operator (`cw tokens create`).

  /** A new token for user `name` (replacing any it had), returned this once. */
  issueUserToken(name: string): string {
    const token = newToken();
    this.db
      .query("INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at")
      .run(name, sha256(token), this.iso());
    return token;
  }

  userByTokenHash(hash: Uint8Array): { name: string } | null {
    return this.db.query("SELECT name FROM users WHERE token_hash = ?").get(hash) as { name: string } | null;
  }

  listUsers(): { name: string; created_at: string }[] {
    return this.db.query("SELECT name, created_at FROM users ORDER BY name").all() as { name: string; created_at: string }[];
  }

  deleteUser(name: string): boolean {
    return this.db.query("DELETE FROM users WHERE name = ?").run(name).changes > 0;
  }

  // Grants: node `from` (its token) may reach node `to`; "*" is every node.

  grant(from: string, to: string): void {
    this.db.query("INSERT INTO grants (from_node, to_node, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING").run(from, to, this.iso());
  }

  revokeGrant(from: string, to: string): boolean {
    return this.db.query("DELETE FROM grants WHERE from_node = ? AND to_node = ?").run(from, to).changes > 0;
  }

  /** What each node may reach, by node name. */
  grants(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const r of this.db.query("SELECT from_node, to_node FROM grants ORDER BY from_node, to_node").all() as { from_node: string; to_node: string }[]) {
      m.set(r.from_node, [...(m.get(r.from_node) ?? []), r.to_node]);
    }
    return m;
  }

  mayReach(from: string, to: string): boolean {
    return this.db.query("SELECT 1 FROM grants WHERE from_node = ? AND (to_node = ? OR to_node = '*')").get(from, to) !== null;
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

  // Device authorization. The device code is a secret kept only as a hash; the user code is not
  // a secret (approving needs the admin token), it only names the request to the operator. A
  // node's token is made when the node polls after approval, so it is never stored in plaintext.

  /**
   * A new request for `name`, valid for `ttlS` seconds, unless `limits.total` unexpired requests
   * exist, or `limits.perSource` from `source` (the requester's address, as the caller groups
   * it). `userCode` is the canonical 8 characters (no dash).
   */
  createDeviceRequest(name: string, ttlS: number, limits: { total: number; perSource: number }, source: string): DeviceCreateResult {
    return this.db
      .transaction((): DeviceCreateResult => {
        const now = this.now();
        this.sweepDeviceRequests(now);
        const mine = this.db.query("SELECT count(*) AS n FROM device_requests WHERE source = ? AND status = 'pending' AND expires_at > ?").get(source, now) as { n: number };
        if (mine.n >= limits.perSource) return { error: "too_many_from_source" };
        const { n } = this.db.query("SELECT count(*) AS n FROM device_requests WHERE expires_at > ?").get(now) as { n: number };
        if (n >= limits.total) return { error: "too_many" };
        const deviceCode = newToken();
        const expiresAt = now + ttlS * 1000;
        // 27^8 codes for at most a few hundred rows: a clash is rare, and retried.
        for (;;) {
          const userCode = newUserCode();
          const r = this.db
            .query("INSERT INTO device_requests (device_hash, user_code, name, created_at, expires_at, source) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_code) DO NOTHING")
            .run(sha256(deviceCode), userCode, name, this.iso(), expiresAt, source);
          if (r.changes === 1) return { deviceCode, userCode, expiresAt };
        }
      })
      .immediate();
  }

  /** The unexpired, undecided request with this (canonical) user code. */
  pendingDeviceRequest(userCode: string): DevicePending | null {
    const now = this.now();
    const row = this.db.query("SELECT name, expires_at FROM device_requests WHERE user_code = ? AND status = 'pending' AND expires_at > ?").get(userCode, now) as {
      name: string;
      expires_at: number;
    } | null;
    return row ? { name: row.name, expiresAt: row.expires_at, secondsLeft: Math.ceil((row.expires_at - now) / 1000), replaces: this.hasNode(row.name) } : null;
  }

  /**
   * The operator's decision on an unexpired, undecided request; null when there is none with
   * this (canonical) user code. A decision is final.
   */
  decideDeviceRequest(userCode: string, approve: boolean): DevicePending | null {
    return this.db
      .transaction((): DevicePending | null => {
        const pending = this.pendingDeviceRequest(userCode);
        if (!pending) return null;
        this.db.query("UPDATE device_requests SET status = ? WHERE user_code = ? AND status = 'pending'").run(approve ? "approved" : "denied", userCode);
        return pending;
      })
      .immediate();
  }

  /**
   * A node's poll. Once approved, registers the node (rotating the token of an existing one)
   * and forgets the request, in one transaction: the token is returned to this poll only.
   */
  pollDeviceRequest(deviceCode: string): DevicePollResult {
    return this.db
      .transaction((): DevicePollResult => {
        const now = this.now();
        const hash = sha256(deviceCode);
        const row = this.db.query("SELECT name, expires_at, status FROM device_requests WHERE device_hash = ?").get(hash) as {
          name: string;
          expires_at: number;
          status: "pending" | "approved" | "denied";
        } | null;
        this.sweepDeviceRequests(now);
        if (!row) return { status: "unknown" };
        if (row.expires_at <= now) {
          this.db.query("DELETE FROM device_requests WHERE device_hash = ?").run(hash);
          return { status: "expired", name: row.name };
        }
        if (row.status === "pending") return { status: "pending" };
        this.db.query("DELETE FROM device_requests WHERE device_hash = ?").run(hash);
        if (row.status === "denied") return { status: "denied", name: row.name };
        const rotated = this.hasNode(row.name);
        // The operator approved a machine of theirs: its node, and its user's CLI.
        return { status: "authorized", name: row.name, token: this.registerNode(row.name), rotated, userToken: this.issueUserToken(row.name) };
      })
      .immediate();
  }

  private sweepDeviceRequests(now: number): void {
    this.db.query("DELETE FROM device_requests WHERE expires_at <= ?").run(now - DEVICE_KEEP_EXPIRED_MS);
  }

  adminTokenHash(): Buffer | null {
    const r = this.db.query("SELECT value FROM meta WHERE key = 'admin_token_hash'").get() as { value: Uint8Array } | null;
    return r ? Buffer.from(r.value) : null;
  }

  setAdminTokenHash(hash: Uint8Array): void {
    this.db.query("INSERT INTO meta (key, value) VALUES ('admin_token_hash', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(hash);
  }

  close(): void {
    this.kvWrites.close();
    this.kv.close();
    this.db.close();
  }

  /** Removes expired keys through kv.db's expiry index; how many. */
  sweepKv(now: number): number {
    return this.kv.sweep(now);
  }

  /** A cheap query: the file is still there and readable. */
  ping(): void {
    this.db.query("SELECT 1").get();
  }
}

/** KvStore (synchronous) behind the async interface. */
class SqliteKv implements RelayKv {
  constructor(private readonly core: SqliteCore) {}
  set(ns: string, key: string, value: string, ttlS?: number, opts?: { ifAbsent?: boolean }): Promise<KvSetResult> {
    return this.core.kvWrites.run(() => this.core.kv.set(ns, key, value, ttlS, opts));
  }
  async get(ns: string, key: string): Promise<KVEntry | null> {
    return this.core.kv.get(ns, key);
  }
  delete(ns: string, key: string, opts?: { ifValue?: string }): Promise<boolean> {
    return this.core.kvWrites.run(() => this.core.kv.delete(ns, key, opts));
  }
  async page(ns: string, prefix: string, opts: KvListOptions): Promise<KvPage> {
    return this.core.kv.page(ns, prefix, opts);
  }
  async sweep(): Promise<number> {
    return this.core.sweepKv(Date.now());
  }
}

/** The SQLite engine behind the store interface. */
export class SqliteRelayStore implements RelayStore {
  readonly engine = "sqlite" as const;
  readonly kv: RelayKv;
  readonly webSignIns: WebSignInRecords;
  private core: SqliteCore;

  constructor(dataDir: string, opts: RelayStoreOptions = {}) {
    this.core = new SqliteCore(dataDir, opts);
    this.kv = new SqliteKv(this.core);
    this.webSignIns = this.core.webSignIns;
  }

  async registerNode(name: string): Promise<string> {
    return this.core.registerNode(name);
  }
  async redeemInvite(name: string, invite: string): Promise<RedeemResult> {
    return this.core.redeemInvite(name, invite);
  }
  async hasNode(name: string): Promise<boolean> {
    return this.core.hasNode(name);
  }
  async nodeByTokenHash(hash: Uint8Array): Promise<NodeRow | null> {
    return this.core.nodeByTokenHash(hash);
  }
  async listNodes(): Promise<NodeRow[]> {
    return this.core.listNodes();
  }
  async deleteNode(name: string): Promise<boolean> {
    return this.core.deleteNode(name);
  }
  async touchNode(name: string): Promise<void> {
    this.core.touchNode(name);
  }
  async issueUserToken(name: string): Promise<string> {
    return this.core.issueUserToken(name);
  }
  async userByTokenHash(hash: Uint8Array): Promise<{ name: string } | null> {
    return this.core.userByTokenHash(hash);
  }
  async listUsers(): Promise<UserRow[]> {
    return this.core.listUsers();
  }
  async deleteUser(name: string): Promise<boolean> {
    return this.core.deleteUser(name);
  }
  async grant(from: string, to: string): Promise<void> {
    this.core.grant(from, to);
  }
  async revokeGrant(from: string, to: string): Promise<boolean> {
    return this.core.revokeGrant(from, to);
  }
  async grants(): Promise<Map<string, string[]>> {
    return this.core.grants();
  }
  async mayReach(from: string, to: string): Promise<boolean> {
    return this.core.mayReach(from, to);
  }
  async createInvite(uses: number, ttlS: number): Promise<{ invite: string; expiresAt: Date }> {
    return this.core.createInvite(uses, ttlS);
  }
  async consumeInvite(invite: string): Promise<boolean> {
    return this.core.consumeInvite(invite);
  }
  async createDeviceRequest(name: string, ttlS: number, limits: { total: number; perSource: number }, source: string): Promise<DeviceCreateResult> {
    return this.core.createDeviceRequest(name, ttlS, limits, source);
  }
  async pendingDeviceRequest(userCode: string): Promise<DevicePending | null> {
    return this.core.pendingDeviceRequest(userCode);
  }
  async decideDeviceRequest(userCode: string, approve: boolean): Promise<DevicePending | null> {
    return this.core.decideDeviceRequest(userCode, approve);
  }
  async pollDeviceRequest(deviceCode: string): Promise<DevicePollResult> {
    return this.core.pollDeviceRequest(deviceCode);
  }
  async adminTokenHash(): Promise<Buffer | null> {
    return this.core.adminTokenHash();
  }
  async setAdminTokenHash(hash: Uint8Array): Promise<void> {
    this.core.setAdminTokenHash(hash);
  }
  async readiness(): Promise<Readiness> {
    try {
      this.core.ping();
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: `relay.db cannot be read: ${(e as Error).message}` };
    }
  }
  async close(): Promise<void> {
    // Writers waiting for their flush hear back before the database closes; with none, it closes
    // at once (before this returns), so that it can be opened again right away.
    if (this.core.kvWrites.busy) await this.core.kvWrites.settled();
    this.core.close();
  }
}
