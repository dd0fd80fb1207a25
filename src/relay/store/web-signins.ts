/**
 * The web app's sign-ins kept in the relay's store, so that every replica knows them: a browser
 * signed in on one replica is signed in on all, signing out ends it everywhere, and a sign-in
 * code shown by a browser on one replica can be approved by a person on another. Kept by hash
 * (of the cookie's value, of the poll secret), as tokens are. On PostgreSQL every expiry is
 * decided by the database's clock, so replicas whose clocks differ agree; SQLite has one process
 * and uses the store's clock.
 */
import type { Database } from "bun:sqlite";
import type { SQL } from "bun";

export type CodePoll = "pending" | "approved" | "expired" | "unknown";

export interface WebSignInRecords {
  /** Records a sign-in for `ttlMs`, dropping the oldest beyond `max`; its expiry (ms since the epoch). */
  create(idHash: string, csrf: string, ttlMs: number, max: number): Promise<number>;
  /** The live sign-in with this hash. */
  get(idHash: string): Promise<{ csrf: string; expiresAt: number } | null>;
  revoke(idHash: string): Promise<void>;
  /** A new waiting code; its expiry, or "too_many" when `maxPending` wait, "taken" when the code is in use. */
  startCode(pollHash: string, code: string, ttlMs: number, maxPending: number): Promise<number | "too_many" | "taken">;
  /** Approves the unexpired, unapproved code; false when there is none. */
  approveCode(code: string): Promise<boolean>;
  /** "approved" once (the code is then forgotten), "expired" once. */
  pollCode(pollHash: string): Promise<CodePoll>;
}

/** The tables, for each engine's migrations. */
export const WEB_SIGNIN_TABLES_SQLITE = `
  CREATE TABLE IF NOT EXISTS web_signins (id_hash TEXT PRIMARY KEY, csrf TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS web_signins_expires ON web_signins (expires_at);
  CREATE TABLE IF NOT EXISTS web_signin_codes (poll_hash TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, expires_at INTEGER NOT NULL, approved INTEGER NOT NULL DEFAULT 0);
`;
export const WEB_SIGNIN_TABLES_PG = `
  CREATE TABLE web_signins (id_hash text PRIMARY KEY, csrf text NOT NULL, expires_at bigint NOT NULL);
  CREATE INDEX web_signins_expires ON web_signins (expires_at);
  CREATE TABLE web_signin_codes (poll_hash text PRIMARY KEY, code text NOT NULL UNIQUE, expires_at bigint NOT NULL, approved boolean NOT NULL DEFAULT false);
`;

export class SqliteWebSignIns implements WebSignInRecords {
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  async create(idHash: string, csrf: string, ttlMs: number, max: number): Promise<number> {
    const now = this.now();
    return this.db.transaction(() => {
      this.db.query("DELETE FROM web_signins WHERE expires_at <= ?").run(now);
      this.db.query("DELETE FROM web_signins WHERE id_hash IN (SELECT id_hash FROM web_signins ORDER BY expires_at DESC LIMIT -1 OFFSET ?)").run(max - 1);
      this.db.query("INSERT INTO web_signins (id_hash, csrf, expires_at) VALUES (?, ?, ?)").run(idHash, csrf, now + ttlMs);
      return now + ttlMs;
    })();
  }

  async get(idHash: string): Promise<{ csrf: string; expiresAt: number } | null> {
    const row = this.db.query("SELECT csrf, expires_at FROM web_signins WHERE id_hash = ? AND expires_at > ?").get(idHash, this.now()) as { csrf: string; expires_at: number } | null;
    return row ? { csrf: row.csrf, expiresAt: row.expires_at } : null;
  }

  async revoke(idHash: string): Promise<void> {
    this.db.query("DELETE FROM web_signins WHERE id_hash = ?").run(idHash);
  }

  async startCode(pollHash: string, code: string, ttlMs: number, maxPending: number): Promise<number | "too_many" | "taken"> {
    const now = this.now();
    return this.db.transaction((): number | "too_many" | "taken" => {
      this.db.query("DELETE FROM web_signin_codes WHERE expires_at <= ?").run(now);
      const { n } = this.db.query("SELECT count(*) AS n FROM web_signin_codes").get() as { n: number };
      if (n >= maxPending) return "too_many";
      const r = this.db.query("INSERT INTO web_signin_codes (poll_hash, code, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING").run(pollHash, code, now + ttlMs);
      return r.changes === 1 ? now + ttlMs : "taken";
    })();
  }

  async approveCode(code: string): Promise<boolean> {
    return this.db.query("UPDATE web_signin_codes SET approved = 1 WHERE code = ? AND approved = 0 AND expires_at > ?").run(code, this.now()).changes === 1;
  }

  async pollCode(pollHash: string): Promise<CodePoll> {
    const now = this.now();
    return this.db.transaction((): CodePoll => {
      const row = this.db.query("SELECT expires_at, approved FROM web_signin_codes WHERE poll_hash = ?").get(pollHash) as { expires_at: number; approved: number } | null;
      if (!row) return "unknown";
      if (row.expires_at <= now) {
        this.db.query("DELETE FROM web_signin_codes WHERE poll_hash = ?").run(pollHash);
        return "expired";
      }
      if (!row.approved) return "pending";
      this.db.query("DELETE FROM web_signin_codes WHERE poll_hash = ?").run(pollHash);
      return "approved";
    })();
  }
}

/** The database's clock in ms since the epoch, as SQL: the one clock every replica shares. */
const DB_NOW_MS = "(extract(epoch from now()) * 1000)::bigint";

export class PostgresWebSignIns implements WebSignInRecords {
  /** `guard` turns a lost connection into StoreUnavailableError (the relay answers 503). */
  constructor(
    private readonly sql: SQL,
    private readonly guard: <T>(p: Promise<T>) => Promise<T>,
  ) {}

  async create(idHash: string, csrf: string, ttlMs: number, max: number): Promise<number> {
    return this.guard(
      this.sql.begin(async (tx) => {
        await tx.unsafe(`DELETE FROM web_signins WHERE expires_at <= ${DB_NOW_MS}`);
        await tx`DELETE FROM web_signins WHERE id_hash IN (SELECT id_hash FROM web_signins ORDER BY expires_at DESC OFFSET ${max - 1})`;
        const [row] = await tx.unsafe(`INSERT INTO web_signins (id_hash, csrf, expires_at) VALUES ($1, $2, ${DB_NOW_MS} + $3) RETURNING expires_at`, [idHash, csrf, ttlMs]);
        return Number(row.expires_at);
      }),
    );
  }

  async get(idHash: string): Promise<{ csrf: string; expiresAt: number } | null> {
    const [row] = await this.guard(this.sql.unsafe(`SELECT csrf, expires_at FROM web_signins WHERE id_hash = $1 AND expires_at > ${DB_NOW_MS}`, [idHash]));
    return row ? { csrf: row.csrf, expiresAt: Number(row.expires_at) } : null;
  }

  async revoke(idHash: string): Promise<void> {
    await this.guard(this.sql`DELETE FROM web_signins WHERE id_hash = ${idHash}`);
  }

  async startCode(pollHash: string, code: string, ttlMs: number, maxPending: number): Promise<number | "too_many" | "taken"> {
    return this.guard(
      this.sql.begin(async (tx): Promise<number | "too_many" | "taken"> => {
        // Counted under a lock: replicas starting codes at once take turns, or each would see room.
        await tx`SELECT pg_advisory_xact_lock(${WEB_CODES_LOCK})`;
        await tx.unsafe(`DELETE FROM web_signin_codes WHERE expires_at <= ${DB_NOW_MS}`);
        const [{ n }] = await tx`SELECT count(*)::int AS n FROM web_signin_codes`;
        if (n >= maxPending) return "too_many";
        const rows = await tx.unsafe(`INSERT INTO web_signin_codes (poll_hash, code, expires_at) VALUES ($1, $2, ${DB_NOW_MS} + $3) ON CONFLICT DO NOTHING RETURNING expires_at`, [pollHash, code, ttlMs]);
        return rows.length === 1 ? Number(rows[0].expires_at) : "taken";
      }),
    );
  }

  async approveCode(code: string): Promise<boolean> {
    const r = await this.guard(this.sql.unsafe(`UPDATE web_signin_codes SET approved = true WHERE code = $1 AND NOT approved AND expires_at > ${DB_NOW_MS}`, [code]));
    return r.count === 1;
  }

  async pollCode(pollHash: string): Promise<CodePoll> {
    // One statement: of two polls at once, one deletes the approved code and only it says so.
    const [row] = await this.guard(
      this.sql.unsafe(
        `WITH c AS (SELECT poll_hash, expires_at <= ${DB_NOW_MS} AS expired, approved FROM web_signin_codes WHERE poll_hash = $1 FOR UPDATE),
          d AS (DELETE FROM web_signin_codes w USING c WHERE w.poll_hash = c.poll_hash AND (c.expired OR c.approved) RETURNING c.expired, c.approved)
        SELECT (SELECT expired FROM c) AS expired, (SELECT approved FROM c) AS approved, (SELECT count(*) FROM d)::int AS deleted`,
        [pollHash],
      ),
    );
    if (row.expired === null) return "unknown";
    if (row.expired) return row.deleted ? "expired" : "unknown";
    if (!row.approved) return "pending";
    return row.deleted ? "approved" : "unknown";
  }
}

/** pg_advisory_xact_lock key for counting waiting codes (device.ts has its own). */
const WEB_CODES_LOCK = 0x63775f77;
