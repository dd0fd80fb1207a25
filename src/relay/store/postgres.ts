/**
 * The relay's state in PostgreSQL, for several relay replicas on one database (the schema is in
 * postgres-schema.ts). The client is Bun's built-in one (Bun.SQL): it pools connections,
 * reconnects by itself when the database comes back, and has transactions; no dependency is
 * needed.
 *
 * Each operation is atomic across replicas: a conditional write is one statement whose WHERE or
 * conflict clause decides (row locks do the rest), and where a decision reads a count first
 * (device-request limits, KV quotas) the transaction takes an advisory lock on what it counts.
 * Times come from the relay's clock, as with SQLite, so both engines agree in tests that move it.
 */
import { SQL } from "bun";
import type { KVEntry } from "../../protocol";
import { KV_NS_MAX_BYTES, KV_NS_MAX_KEYS } from "../../protocol/relay-api";
import type { KvListed, KvListOptions, KvPage, KvQuota, KvSetResult } from "../../store/kv-store";
import { newToken, sha256 } from "../../sys/secrets";
import { DEVICE_KEEP_EXPIRED_MS, newUserCode } from "./common";
import {
  type DeviceCreateResult,
  type DevicePending,
  type DevicePollResult,
  type NodeRow,
  type Readiness,
  type RedeemResult,
  type RelayKv,
  type RelayStore,
  type RelayStoreOptions,
  StoreUnavailableError,
  type UserRow,
} from "./interface";
import { migrate, PG_SCHEMA_VERSION } from "./postgres-schema";
import { TurnBatches } from "./turn-batches";
import { PostgresWebSignIns, type WebSignInRecords } from "./web-signins";

/** A query, in or out of a transaction. */
type Q = SQL;

/** Serialises device-request creation, whose limits are counts. */
const DEVICE_LOCK = 0x63770002;
/** /readyz gives the database this long to answer. */
const READY_TIMEOUT_MS = 2_000;

/**
 * The sweep of expired keys: through kv_expires, never the whole table (the store test checks the
 * plan). $1 is the fixed clock or null for the database's (cw_clock_ms, postgres-schema.ts).
 */
export const PG_KV_SWEEP = "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= cw_clock_ms($1::bigint)";

export class PostgresRelayStore implements RelayStore {
  readonly engine = "postgres" as const;
  readonly kv: RelayKv;
  readonly webSignIns: WebSignInRecords;
  private readonly now: () => number;
  /** A clock the tests move, or none: expiry is then the database's clock (cw_clock_ms). */
  private readonly fixedClock?: () => number;

  private constructor(
    private readonly sql: SQL,
    opts: RelayStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.fixedClock = opts.now;
    this.kv = new PostgresKv(sql, opts.kvQuota ?? { keys: KV_NS_MAX_KEYS, bytes: KV_NS_MAX_BYTES });
    this.webSignIns = new PostgresWebSignIns(sql, guard);
  }

  /** Connects and migrates; throws (with the cause) when the database cannot be reached. */
  static async open(url: string, opts: RelayStoreOptions & { log?: (msg: string) => void } = {}): Promise<PostgresRelayStore> {
    // connectionTimeout: a request waits at most this long for a database that is down, then
    // gets 503; the pool reconnects when it is back.
    const sql = new SQL({ url, max: 10, connectionTimeout: 5, idleTimeout: 60 });
    try {
      await migrate(sql, opts.log ?? (() => {}));
    } catch (e) {
      await sql.close({ timeout: 0 }).catch(() => {});
      throw new Error(`cannot prepare the database: ${(e as Error).message}`);
    }
    return new PostgresRelayStore(sql, opts);
  }

  /** The connection pool, for the replica set (replicas.ts), which shares this database. */
  get client(): SQL {
    return this.sql;
  }

  /** cw_clock_ms's argument: the fixed clock's time, or null for the database's own. */
  private clock(): number | null {
    return this.fixedClock ? this.fixedClock() : null;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  async registerNode(name: string): Promise<string> {
    return guard(register(this.sql, name, this.iso()));
  }

  async redeemInvite(name: string, invite: string): Promise<RedeemResult> {
    const f = this.clock();
    return guard(
      this.sql
        .begin(async (tx) => {
          const hash = sha256(invite);
          const [valid] = await tx`SELECT 1 FROM invites WHERE token_hash = ${hash} AND uses_left > 0 AND expires_at > cw_clock_ms(${f}::bigint)`;
          if (!valid) return { error: "invalid_invite" } as const;
          const token = newToken();
          const added = await tx`INSERT INTO nodes (name, token_hash, registered_at) VALUES (${name}, ${sha256(token)}, ${this.iso()}) ON CONFLICT (name) DO NOTHING`;
          if (added.count === 0) return { error: "name_taken" } as const;
          // The row lock makes racing redeemers of the last use take turns; the loser's node row
          // goes with its rolled-back transaction.
          const used = await tx`UPDATE invites SET uses_left = uses_left - 1 WHERE token_hash = ${hash} AND uses_left > 0 AND expires_at > cw_clock_ms(${f}::bigint)`;
          if (used.count !== 1) throw new LostRace();
          await tx`DELETE FROM invites WHERE uses_left <= 0 OR expires_at <= cw_clock_ms(${f}::bigint)`;
          return { token };
        })
        .catch((e): RedeemResult => {
          if (e instanceof LostRace) return { error: "invalid_invite" };
          throw e;
        }),
    );
  }

  async hasNode(name: string): Promise<boolean> {
    return guard(hasNode(this.sql, name));
  }

  async nodeByTokenHash(hash: Uint8Array): Promise<NodeRow | null> {
    const [row] = await guard(this.sql`SELECT name, registered_at, last_seen_at FROM nodes WHERE token_hash = ${hash}`);
    return row ? nodeRow(row) : null;
  }

  async listNodes(): Promise<NodeRow[]> {
    const rows = await guard(this.sql`SELECT name, registered_at, last_seen_at FROM nodes ORDER BY name COLLATE "C"`);
    return rows.map(nodeRow);
  }

  async deleteNode(name: string): Promise<boolean> {
    return guard(
      this.sql.begin(async (tx) => {
        await tx`DELETE FROM grants WHERE from_node = ${name} OR to_node = ${name}`;
        return (await tx`DELETE FROM nodes WHERE name = ${name}`).count > 0;
      }),
    );
  }

  async issueUserToken(name: string): Promise<string> {
    return guard(issueUser(this.sql, name, this.iso()));
  }

  async userByTokenHash(hash: Uint8Array): Promise<{ name: string } | null> {
    const [row] = await guard(this.sql`SELECT name FROM users WHERE token_hash = ${hash}`);
    return row ? { name: row.name } : null;
  }

  async listUsers(): Promise<UserRow[]> {
    const rows = await guard(this.sql`SELECT name, created_at FROM users ORDER BY name COLLATE "C"`);
    return rows.map((r: UserRow) => ({ name: r.name, created_at: r.created_at }));
  }

  async deleteUser(name: string): Promise<boolean> {
    return (await guard(this.sql`DELETE FROM users WHERE name = ${name}`)).count > 0;
  }

  async grant(from: string, to: string): Promise<void> {
    await guard(this.sql`INSERT INTO grants (from_node, to_node, created_at) VALUES (${from}, ${to}, ${this.iso()}) ON CONFLICT DO NOTHING`);
  }

  async revokeGrant(from: string, to: string): Promise<boolean> {
    return (await guard(this.sql`DELETE FROM grants WHERE from_node = ${from} AND to_node = ${to}`)).count > 0;
  }

  async grants(): Promise<Map<string, string[]>> {
    const m = new Map<string, string[]>();
    for (const r of await guard(this.sql`SELECT from_node, to_node FROM grants ORDER BY from_node COLLATE "C", to_node COLLATE "C"`)) {
      m.set(r.from_node, [...(m.get(r.from_node) ?? []), r.to_node]);
    }
    return m;
  }

  async mayReach(from: string, to: string): Promise<boolean> {
    return (await guard(this.sql`SELECT 1 FROM grants WHERE from_node = ${from} AND (to_node = ${to} OR to_node = '*')`)).length > 0;
  }

  async touchNode(name: string): Promise<void> {
    await guard(this.sql`UPDATE nodes SET last_seen_at = ${this.iso()} WHERE name = ${name}`);
  }

  async createInvite(uses: number, ttlS: number): Promise<{ invite: string; expiresAt: Date }> {
    const invite = newToken();
    const [row] = await guard(
      this.sql`INSERT INTO invites (token_hash, created_at, expires_at, uses_left) VALUES (${sha256(invite)}, ${this.iso()}, cw_clock_ms(${this.clock()}::bigint) + ${ttlS * 1000}, ${uses})
        RETURNING expires_at::float8 AS expires_at`,
    );
    return { invite, expiresAt: new Date(row.expires_at) };
  }

  async consumeInvite(invite: string): Promise<boolean> {
    const f = this.clock();
    return guard(
      this.sql.begin(async (tx) => {
        const used = await tx`UPDATE invites SET uses_left = uses_left - 1 WHERE token_hash = ${sha256(invite)} AND uses_left > 0 AND expires_at > cw_clock_ms(${f}::bigint)`;
        // Dead invites are never useful again; forget them.
        await tx`DELETE FROM invites WHERE uses_left <= 0 OR expires_at <= cw_clock_ms(${f}::bigint)`;
        return used.count === 1;
      }),
    );
  }

  async createDeviceRequest(name: string, ttlS: number, limits: { total: number; perSource: number }, source: string): Promise<DeviceCreateResult> {
    return guard(
      this.sql.begin(async (tx): Promise<DeviceCreateResult> => {
        // The limits are counts: creators on every replica take turns, or each would see room.
        await tx`SELECT pg_advisory_xact_lock(${DEVICE_LOCK})`;
        const now = await clockNow(tx, this.clock());
        await sweepDevice(tx, now);
        const [mine] = await tx`SELECT count(*)::int AS n FROM device_requests WHERE source = ${source} AND status = 'pending' AND expires_at > ${now}`;
        if (mine.n >= limits.perSource) return { error: "too_many_from_source" };
        const [all] = await tx`SELECT count(*)::int AS n FROM device_requests WHERE expires_at > ${now}`;
        if (all.n >= limits.total) return { error: "too_many" };
        const deviceCode = newToken();
        const expiresAt = now + ttlS * 1000;
        // 27^8 codes for at most a few hundred rows: a clash is rare, and retried.
        for (;;) {
          const userCode = newUserCode();
          const r = await tx`INSERT INTO device_requests (device_hash, user_code, name, created_at, expires_at, source)
            VALUES (${sha256(deviceCode)}, ${userCode}, ${name}, ${this.iso()}, ${expiresAt}, ${source}) ON CONFLICT (user_code) DO NOTHING`;
          if (r.count === 1) return { deviceCode, userCode, expiresAt };
        }
      }),
    );
  }

  async pendingDeviceRequest(userCode: string): Promise<DevicePending | null> {
    return guard(pending(this.sql, userCode, this.clock()));
  }

  async decideDeviceRequest(userCode: string, approve: boolean): Promise<DevicePending | null> {
    return guard(
      this.sql.begin(async (tx) => {
        const found = await pending(tx, userCode, this.clock());
        if (!found) return null;
        // Only a still-pending row: of two racing decisions, one applies and the other finds none.
        const r = await tx`UPDATE device_requests SET status = ${approve ? "approved" : "denied"} WHERE user_code = ${userCode} AND status = 'pending'`;
        return r.count === 1 ? found : null;
      }),
    );
  }

  async pollDeviceRequest(deviceCode: string): Promise<DevicePollResult> {
    return guard(
      this.sql.begin(async (tx): Promise<DevicePollResult> => {
        const now = await clockNow(tx, this.clock());
        const hash = sha256(deviceCode);
        // FOR UPDATE: two polls of one approved request take turns, and the second finds it gone.
        const [row] = await tx`SELECT name, expires_at::float8 AS expires_at, status FROM device_requests WHERE device_hash = ${hash} FOR UPDATE`;
        await sweepDevice(tx, now);
        if (!row) return { status: "unknown" };
        if (row.expires_at <= now) {
          await tx`DELETE FROM device_requests WHERE device_hash = ${hash}`;
          return { status: "expired", name: row.name };
        }
        if (row.status === "pending") return { status: "pending" };
        await tx`DELETE FROM device_requests WHERE device_hash = ${hash}`;
        if (row.status === "denied") return { status: "denied", name: row.name };
        const rotated = await hasNode(tx, row.name);
        // The operator approved a machine of theirs: its node, and its user's CLI.
        const token = await register(tx, row.name, this.iso());
        return { status: "authorized", name: row.name, token, rotated, userToken: await issueUser(tx, row.name, this.iso()) };
      }),
    );
  }

  async adminTokenHash(): Promise<Buffer | null> {
    const [row] = await guard(this.sql`SELECT value FROM meta WHERE key = 'admin_token_hash'`);
    return row ? Buffer.from(row.value) : null;
  }

  /**
   * The SSH host key all replicas present: the stored one, or `make()`'s, stored by whichever
   * replica gets there first (the others read that one).
   */
  async sharedHostKey(make: () => string): Promise<string> {
    await guard(this.sql`INSERT INTO meta (key, value) VALUES ('ssh_host_key', ${Buffer.from(make())}) ON CONFLICT (key) DO NOTHING`);
    const [row] = await guard(this.sql`SELECT value FROM meta WHERE key = 'ssh_host_key'`);
    return Buffer.from(row.value).toString("utf8");
  }

  async setAdminTokenHash(hash: Uint8Array): Promise<void> {
    await guard(this.sql`INSERT INTO meta (key, value) VALUES ('admin_token_hash', ${hash}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
  }

  async readiness(): Promise<Readiness> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `the database did not answer within ${READY_TIMEOUT_MS} ms` }), READY_TIMEOUT_MS);
    });
    const check = (async (): Promise<Readiness> => {
      const [row] = await this.sql`SELECT coalesce(max(version), 0)::int AS v FROM cw_schema_migrations`;
      return row.v >= PG_SCHEMA_VERSION ? { ok: true } : { ok: false, reason: `the database schema is at version ${row.v}, this relay needs ${PG_SCHEMA_VERSION}` };
    })().catch((e): Readiness => ({ ok: false, reason: `the database cannot be reached: ${(e as Error).message}` }));
    try {
      return await Promise.race([check, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.sql.close({ timeout: 1 });
  }
}

class LostRace extends Error {}

async function register(q: Q, name: string, at: string): Promise<string> {
  const token = newToken();
  await q`INSERT INTO nodes (name, token_hash, registered_at) VALUES (${name}, ${sha256(token)}, ${at})
    ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, registered_at = excluded.registered_at`;
  return token;
}

async function issueUser(q: Q, name: string, at: string): Promise<string> {
  const token = newToken();
  await q`INSERT INTO users (name, token_hash, created_at) VALUES (${name}, ${sha256(token)}, ${at})
    ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`;
  return token;
}

async function hasNode(q: Q, name: string): Promise<boolean> {
  return (await q`SELECT 1 FROM nodes WHERE name = ${name}`).length > 0;
}

async function pending(q: Q, userCode: string, fixed: number | null): Promise<DevicePending | null> {
  const [row] = await q`SELECT name, expires_at::float8 AS expires_at, cw_clock_ms(${fixed}::bigint)::float8 AS now FROM device_requests
    WHERE user_code = ${userCode} AND status = 'pending' AND expires_at > cw_clock_ms(${fixed}::bigint)`;
  if (!row) return null;
  return { name: row.name, expiresAt: row.expires_at, secondsLeft: Math.ceil((row.expires_at - row.now) / 1000), replaces: await hasNode(q, row.name) };
}

/** The time by the database's clock (or the fixed one), in ms: for decisions made in JS within a transaction. */
async function clockNow(q: Q, fixed: number | null): Promise<number> {
  const [row] = await q`SELECT cw_clock_ms(${fixed}::bigint)::float8 AS now`;
  return row.now;
}

async function sweepDevice(q: Q, now: number): Promise<void> {
  await q`DELETE FROM device_requests WHERE expires_at <= ${now - DEVICE_KEEP_EXPIRED_MS}`;
}

function nodeRow(r: { name: string; registered_at: string; last_seen_at: string | null }): NodeRow {
  return { name: r.name, registered_at: r.registered_at, last_seen_at: r.last_seen_at };
}

/** The shared key-value store in the kv table (bytea keys and values: see postgres-schema.ts). */
/** One write of a batch (cw_kv_write_many): 's' set, 'a' set-if-absent, 'd' delete, 'c' delete if the value is. */
interface KvWrite {
  op: "s" | "a" | "d" | "c";
  ns: string;
  key: Buffer;
  value: Buffer | null;
  ttlMs: number | null;
}

class PostgresKv implements RelayKv {
  // Gets and writes that arrive in one turn go as one query each (turn-batches.ts): measured on
  // 2 cores with 64 clients, per-query overhead, not the database's work, bounds the relay.
  // Writes one batch at a time (the next one gathers meanwhile); gets two, so a read waits for
  // at most one round trip before its own starts.
  private readonly gets = new TurnBatches((items: { ns: string; key: Buffer }[]) => this.getMany(items), 2);
  private readonly writes = new TurnBatches((items: KvWrite[]) => this.writeMany(items), 1);

  constructor(
    private readonly sql: SQL,
    private readonly quota: KvQuota,
  ) {}

  async set(ns: string, key: string, value: string, ttlS?: number, opts: { ifAbsent?: boolean } = {}): Promise<KvSetResult> {
    // By the database's clock (null + ttl is null: no expiry); the quota judged after the write,
    // exactly (cw_kv_set, postgres-schema.ts), with a sweep and one more try when over it.
    const ttlMs = ttlS !== undefined ? Math.round(ttlS * 1000) : null;
    const r = await this.writes.submit({ op: opts.ifAbsent === true ? "a" : "s", ns, key: utf8(key), value: utf8(value), ttlMs });
    if (r === "stored") return { stored: true };
    if (r === "exists") return { stored: false, reason: "exists" };
    const m = /cw_kv_quota_(keys|bytes)/.exec(r);
    if (m) return { stored: false, reason: "quota", limit: m[1] as "keys" | "bytes", quota: this.quota };
    throw new Error(`cw_kv_write_many answered ${JSON.stringify(r)} for a set`);
  }

  async get(ns: string, key: string): Promise<KVEntry | null> {
    const r = await this.gets.submit({ ns, key: utf8(key) });
    return r ? { key, value: text(r.value), expires_at: iso(r.expires_at) } : null;
  }

  async delete(ns: string, key: string, opts: { ifValue?: string } = {}): Promise<boolean> {
    const ifValue = opts.ifValue !== undefined;
    const r = await this.writes.submit({ op: ifValue ? "c" : "d", ns, key: utf8(key), value: ifValue ? utf8(opts.ifValue!) : null, ttlMs: null });
    return r === "deleted";
  }

  /** Live entries of the (ns, key) pairs, in their order, by the database's clock. */
  private async getMany(items: { ns: string; key: Buffer }[]): Promise<({ value: Uint8Array; expires_at: number | null } | null)[]> {
    const rows = (await guard(
      this.sql`SELECT q.i::int AS i, kv.value, kv.expires_at::float8 AS expires_at
        FROM unnest(${items.map((x) => x.ns)}::text[], ${items.map((x) => x.key)}::bytea[]) WITH ORDINALITY AS q(ns, key, i)
        JOIN kv ON kv.ns = q.ns AND kv.key = q.key
        WHERE kv.expires_at IS NULL OR kv.expires_at > cw_clock_ms(NULL)`,
    )) as { i: number; value: Uint8Array; expires_at: number | null }[];
    const out: ({ value: Uint8Array; expires_at: number | null } | null)[] = items.map(() => null);
    for (const r of rows) out[r.i - 1] = { value: r.value, expires_at: r.expires_at };
    return out;
  }

  /**
   * The writes in one call of cw_kv_write_many (postgres-schema.ts), in arrival order, one
   * outcome each. A deadlock (only with a replica of an older cw, whose single writes lock in the
   * other order) undoes the whole batch, which is then sent again.
   */
  private async writeMany(items: KvWrite[]): Promise<string[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const rows = (await guard(
          this.sql`SELECT i, r FROM cw_kv_write_many(${items.map((x) => x.op)}::text[], ${items.map((x) => x.ns)}::text[], ${items.map((x) => x.key)}::bytea[],
            ${items.map((x) => x.value)}::bytea[], ${items.map((x) => x.ttlMs)}::bigint[], ${this.quota.keys}, ${this.quota.bytes})`,
        )) as { i: number; r: string }[];
        const out: string[] = new Array(items.length);
        for (const row of rows) out[row.i - 1] = row.r;
        return out;
      } catch (e) {
        if (attempt < 3 && String((e as { errno?: unknown })?.errno ?? "") === "40P01") continue;
        throw e;
      }
    }
  }

  async page(ns: string, prefix: string, opts: KvListOptions): Promise<KvPage> {
    const p = utf8(prefix);
    // bytea compares byte by byte: `key >= prefix` starts the index range, substring ends it.
    const after = opts.after !== undefined ? utf8(opts.after) : null;
    const limit = Math.min(opts.limit, 1_000_000) + 1;
    const rows = await guard(
      opts.values
        ? this.sql`SELECT key, value, expires_at::float8 AS expires_at FROM kv WHERE ns = ${ns} AND key >= ${p} AND substring(key from 1 for ${p.length}) = ${p}
            AND (${after}::bytea IS NULL OR key > ${after}::bytea) AND (expires_at IS NULL OR expires_at > cw_clock_ms(NULL)) ORDER BY key LIMIT ${limit}`
        : this.sql`SELECT key, expires_at::float8 AS expires_at FROM kv WHERE ns = ${ns} AND key >= ${p} AND substring(key from 1 for ${p.length}) = ${p}
            AND (${after}::bytea IS NULL OR key > ${after}::bytea) AND (expires_at IS NULL OR expires_at > cw_clock_ms(NULL)) ORDER BY key LIMIT ${limit}`,
    );
    const entries: KvListed[] = [];
    let bytes = 0;
    let more = false;
    for (const r of rows as { key: Uint8Array; value?: Uint8Array; expires_at: number | null }[]) {
      if (entries.length >= opts.limit || (opts.maxBytes !== undefined && entries.length > 0 && bytes >= opts.maxBytes)) {
        more = true;
        break;
      }
      const key = text(r.key);
      if (opts.values) {
        entries.push({ key, value: text(r.value!), expires_at: iso(r.expires_at) });
        bytes += r.value!.length;
      } else entries.push({ key, expires_at: iso(r.expires_at) });
    }
    return { entries, next: more ? entries[entries.length - 1]!.key : null };
  }

  async sweep(): Promise<number> {
    return (await guard(this.sql.unsafe(PG_KV_SWEEP, [null]))).count;
  }
}

function utf8(s: string): Buffer {
  return Buffer.from(s, "utf8");
}

function text(b: Uint8Array): string {
  return Buffer.from(b).toString("utf8");
}

function iso(ms: number | null): string | null {
  return ms ? new Date(ms).toISOString() : null;
}

/**
 * Database failures that mean "not reachable now" (connection refused, closed, timed out; the
 * server shutting down or starting) become StoreUnavailableError, which the API answers with 503
 * and a hint; any other error is a bug or a constraint, and stays as it is.
 */
export async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (unreachable(e)) throw new StoreUnavailableError(`the database is unreachable: ${(e as Error).message}`);
    throw e;
  }
}

function unreachable(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? "");
  // Bun's PostgresError: `code` is Bun's (ERR_POSTGRES_CONNECTION_REFUSED, _CLOSED, _TIMEOUT...),
  // `errno` the server's SQLSTATE for a server error: class 08 (connection exception) and 57P0x
  // (terminated by the administrator, shutting down, cannot connect now). ECONNREFUSED and the
  // like come from the socket.
  const state = String((e as { errno?: unknown })?.errno ?? "");
  return code.startsWith("ERR_POSTGRES_CONNECTION") || /^E[A-Z]+$/.test(code) || state.startsWith("08") || /^57P0[1-3]$/.test(state);
}
