/**
 * The relay's PostgreSQL schema, one step per version, applied at start by whichever replica
 * gets there first: under a transaction-scoped advisory lock, so replicas starting together wait
 * for each other, and a step is applied exactly once (DDL is transactional in PostgreSQL: a step
 * that fails leaves nothing behind). Steps are only ever appended.
 *
 * Times are ms since the epoch (bigint), as in SQLite. KV keys and values are bytea, not text:
 * PostgreSQL's text cannot hold U+0000, which SQLite and the protocol allow, and bytea orders
 * byte by byte like SQLite's text, so pages come out in the same order on both engines.
 */
import type { SQL } from "bun";

export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "nodes, invites, device requests, meta, kv",
    sql: `
      CREATE TABLE meta (key text PRIMARY KEY, value bytea NOT NULL);
      CREATE TABLE nodes (name text PRIMARY KEY, token_hash bytea NOT NULL UNIQUE, registered_at text NOT NULL, last_seen_at text NULL);
      CREATE TABLE invites (token_hash bytea PRIMARY KEY, created_at text NOT NULL, expires_at bigint NOT NULL, uses_left integer NOT NULL);
      CREATE TABLE device_requests (
        device_hash bytea PRIMARY KEY,
        user_code text NOT NULL UNIQUE,
        name text NOT NULL,
        created_at text NOT NULL,
        expires_at bigint NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
        source text NULL
      );
      CREATE INDEX device_requests_expires ON device_requests (expires_at);
      CREATE TABLE kv (ns text NOT NULL, key bytea NOT NULL, value bytea NOT NULL, expires_at bigint NULL, PRIMARY KEY (ns, key));
      CREATE INDEX kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
];

export const PG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Any constant will do, as long as it is ours: it names the lock migrations take. */
const MIGRATION_LOCK = 0x63770001;

/**
 * Applies the steps this database lacks; returns the version it is at. A database newer than
 * this cw (a rolling upgrade under way) is left alone: steps only add, so an older replica still
 * finds what it uses.
 */
export async function migrate(sql: SQL, log: (msg: string) => void): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS cw_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const done = new Set<number>((await tx`SELECT version FROM cw_schema_migrations`).map((r: { version: number }) => r.version));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO cw_schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      log(`database: applied migration ${m.version} (${m.name})`);
    }
    const newest = Math.max(0, ...done, PG_SCHEMA_VERSION);
    if (newest > PG_SCHEMA_VERSION) log(`database: schema version ${newest} is newer than this cw's (${PG_SCHEMA_VERSION}); carrying on, as steps only add`);
    return newest;
  });
}
