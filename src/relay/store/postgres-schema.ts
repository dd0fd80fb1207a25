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
import { WEB_SIGNIN_TABLES_PG } from "./web-signins";
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
  {
    version: 2,
    name: "user tokens, grants, kv usage kept by triggers",
    // kv_usage: each namespace's keys and bytes, so a quota check reads one row instead of the
    // namespace (as KvStore does in SQLite). Expired rows count until swept.
    sql: `
      CREATE TABLE users (name text PRIMARY KEY, token_hash bytea NOT NULL UNIQUE, created_at text NOT NULL);
      CREATE TABLE grants (from_node text NOT NULL, to_node text NOT NULL, created_at text NOT NULL, PRIMARY KEY (from_node, to_node));
      CREATE TABLE kv_usage (ns text PRIMARY KEY, keys bigint NOT NULL, bytes bigint NOT NULL);
      CREATE FUNCTION cw_kv_usage() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO kv_usage (ns, keys, bytes) VALUES (NEW.ns, 1, octet_length(NEW.value))
            ON CONFLICT (ns) DO UPDATE SET keys = kv_usage.keys + 1, bytes = kv_usage.bytes + octet_length(NEW.value);
        ELSIF TG_OP = 'DELETE' THEN
          UPDATE kv_usage SET keys = keys - 1, bytes = bytes - octet_length(OLD.value) WHERE ns = OLD.ns;
        ELSE
          UPDATE kv_usage SET bytes = bytes - octet_length(OLD.value) + octet_length(NEW.value) WHERE ns = NEW.ns;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER kv_usage_change AFTER INSERT OR DELETE OR UPDATE OF value ON kv FOR EACH ROW EXECUTE FUNCTION cw_kv_usage();
      INSERT INTO kv_usage (ns, keys, bytes) SELECT ns, count(*), coalesce(sum(octet_length(value)), 0) FROM kv GROUP BY ns;
    `,
  },
  {
    version: 3,
    name: "replicas and where each node is connected",
    // Heartbeats use the database's clock, so replicas' clocks need not agree.
    sql: `
      CREATE TABLE replicas (id text PRIMARY KEY, url text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), heartbeat_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE node_locations (node text PRIMARY KEY, replica_id text NOT NULL, since timestamptz NOT NULL DEFAULT now());
      CREATE INDEX node_locations_replica ON node_locations (replica_id);
    `,
  },
  {
    version: 4,
    name: "handles, node cards, peer mail, the federation queue and its notices",
    // What each replica kept in its own trust.db before (store/trust.ts): shared, so a node
    // connected to any replica claims, posts and fetches against the same rows. Envelopes are
    // text (JSON of ciphertext), times ms since the epoch.
    sql: `
      CREATE TABLE trust_handles (name text PRIMARY KEY, node text NOT NULL, fingerprint text NOT NULL, card text NOT NULL, claimed_at text NOT NULL);
      CREATE INDEX trust_handles_node ON trust_handles (node);
      CREATE TABLE trust_node_cards (node text PRIMARY KEY, fingerprint text NOT NULL, card text NOT NULL, updated_at text NOT NULL);
      CREATE TABLE trust_mail (seq bigserial PRIMARY KEY, box text NOT NULL, envelope text NOT NULL, created_at bigint NOT NULL);
      CREATE INDEX trust_mail_box ON trust_mail (box, seq);
      CREATE INDEX trust_mail_created ON trust_mail (created_at);
      CREATE TABLE trust_outbound (seq bigserial PRIMARY KEY, host text NOT NULL, sender text NOT NULL, envelope text NOT NULL, created_at bigint NOT NULL, attempts integer NOT NULL DEFAULT 0, next_at bigint NOT NULL, last_error text NULL);
      CREATE INDEX trust_outbound_host ON trust_outbound (host, seq);
      CREATE TABLE trust_notices (seq bigserial PRIMARY KEY, handle text NOT NULL, notice text NOT NULL, created_at bigint NOT NULL);
      CREATE INDEX trust_notices_handle ON trust_notices (handle, seq);
    `,
  },
  {
    version: 5,
    name: "the web app's sign-ins, shared by replicas",
    sql: WEB_SIGNIN_TABLES_PG,
  },
  {
    version: 6,
    name: "the database's clock for expiry",
    // Expiry is decided by the database's clock, the one every replica shares (their own may
    // be skewed); `fixed`, when not null, stands in for it (the store tests move a clock).
    sql: `
      CREATE FUNCTION cw_clock_ms(fixed bigint) RETURNS bigint LANGUAGE sql STABLE
        AS $$ SELECT coalesce(fixed, (extract(epoch from now()) * 1000)::bigint) $$;
    `,
  },
  {
    version: 7,
    name: "a KV set in one round trip",
    // What PostgresKv.set did in a transaction of six round trips under the namespace's lock
    // (begin, lock, its usage, this key's size, the write, commit), in one statement that writes
    // first and judges the quota after: the write's trigger updates the namespace's usage row and
    // holds that row's lock until commit, so writers of a namespace, on every replica, take turns
    // there, and what each reads after its own write is exact. Over the quota it raises (the
    // write is undone); the caller then sweeps the namespace's expired keys, which still count,
    // in a statement of its own, and tries once more.
    sql: `
      CREATE FUNCTION cw_kv_set(p_ns text, p_key bytea, p_value bytea, p_ttl_ms bigint, p_if_absent boolean, p_max_keys bigint, p_max_bytes bigint)
      RETURNS text LANGUAGE plpgsql AS $$
      DECLARE
        u_keys bigint; u_bytes bigint; done bigint;
      BEGIN
        -- Set-if-absent is one INSERT whose conflict clause overwrites only an expired row.
        IF p_if_absent THEN
          INSERT INTO kv (ns, key, value, expires_at) VALUES (p_ns, p_key, p_value, cw_clock_ms(NULL) + p_ttl_ms)
            ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= cw_clock_ms(NULL);
        ELSE
          INSERT INTO kv (ns, key, value, expires_at) VALUES (p_ns, p_key, p_value, cw_clock_ms(NULL) + p_ttl_ms)
            ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at;
        END IF;
        GET DIAGNOSTICS done = ROW_COUNT;
        IF done = 0 THEN RETURN 'exists'; END IF;
        SELECT keys, bytes INTO u_keys, u_bytes FROM kv_usage WHERE ns = p_ns;
        IF u_keys > p_max_keys THEN RAISE EXCEPTION 'cw_kv_quota_keys'; END IF;
        IF u_bytes > p_max_bytes THEN RAISE EXCEPTION 'cw_kv_quota_bytes'; END IF;
        RETURN 'stored';
      END $$;
    `,
  },
  {
    version: 8,
    name: "KV writes in batches",
    // The sets and deletes a replica receives in one turn of its event loop, in one call and one
    // transaction (PostgresKv): in arrival order, each with its own outcome as if alone. 's' set,
    // 'a' set-if-absent, 'd' delete, 'c' delete if the value is p_value (of live keys only).
    // The namespaces' usage rows are locked first, in one order, and held to the end: writers of
    // a namespace take turns there, on every replica (as cw_kv_set's trigger makes them), so
    // the usage read before each write is exact and a set over the quota is refused before it
    // writes, with nothing to undo (no block with EXCEPTION, which costs a subtransaction per
    // item). Expired keys count until swept: one over the quota sweeps its namespace's first.
    // Locking the usage rows after a key's, in batches of different order on other connections
    // or replicas, could deadlock; first and in order, it cannot.
    sql: `
      CREATE FUNCTION cw_kv_write_many(p_op text[], p_ns text[], p_key bytea[], p_value bytea[], p_ttl_ms bigint[], p_max_keys bigint, p_max_bytes bigint)
      RETURNS TABLE (i integer, r text) LANGUAGE plpgsql AS $$
      DECLARE
        n integer; done bigint; old_len bigint; old_exp bigint; u_keys bigint; u_bytes bigint; t bigint := cw_clock_ms(NULL);
      BEGIN
        INSERT INTO kv_usage (ns, keys, bytes) SELECT DISTINCT x, 0, 0 FROM unnest(p_ns) AS x ORDER BY 1 ON CONFLICT (ns) DO NOTHING;
        PERFORM 1 FROM kv_usage WHERE ns = ANY(p_ns) ORDER BY ns FOR UPDATE;
        FOR n IN 1 .. coalesce(array_length(p_op, 1), 0) LOOP
          i := n;
          IF p_op[n] = 'd' OR p_op[n] = 'c' THEN
            DELETE FROM kv WHERE ns = p_ns[n] AND key = p_key[n] AND (expires_at IS NULL OR expires_at > t)
              AND (p_op[n] = 'd' OR value = p_value[n]);
            GET DIAGNOSTICS done = ROW_COUNT;
            r := CASE WHEN done > 0 THEN 'deleted' ELSE 'absent' END;
          ELSE
            SELECT octet_length(value), expires_at INTO old_len, old_exp FROM kv WHERE ns = p_ns[n] AND key = p_key[n];
            IF p_op[n] = 'a' AND FOUND AND (old_exp IS NULL OR old_exp > t) THEN
              r := 'exists';
            ELSE
              SELECT keys, bytes INTO u_keys, u_bytes FROM kv_usage WHERE ns = p_ns[n];
              IF old_len IS NOT NULL THEN u_keys := u_keys - 1; u_bytes := u_bytes - old_len; END IF;
              IF u_keys + 1 > p_max_keys OR u_bytes + octet_length(p_value[n]) > p_max_bytes THEN
                DELETE FROM kv WHERE ns = p_ns[n] AND expires_at IS NOT NULL AND expires_at <= t;
                SELECT octet_length(value) INTO old_len FROM kv WHERE ns = p_ns[n] AND key = p_key[n];
                SELECT keys, bytes INTO u_keys, u_bytes FROM kv_usage WHERE ns = p_ns[n];
                IF old_len IS NOT NULL THEN u_keys := u_keys - 1; u_bytes := u_bytes - old_len; END IF;
              END IF;
              IF u_keys + 1 > p_max_keys THEN
                r := 'cw_kv_quota_keys';
              ELSIF u_bytes + octet_length(p_value[n]) > p_max_bytes THEN
                r := 'cw_kv_quota_bytes';
              ELSE
                INSERT INTO kv (ns, key, value, expires_at) VALUES (p_ns[n], p_key[n], p_value[n], t + p_ttl_ms[n])
                  ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at;
                r := 'stored';
              END IF;
            END IF;
          END IF;
          RETURN NEXT;
        END LOOP;
      END $$;
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
