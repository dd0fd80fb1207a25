/**
 * The relay's store, one suite run against both engines: SQLite in a temp dir, and PostgreSQL in
 * a private cluster (relay-store-pg.ts) with a fresh database per test. Whatever a caller can see
 * (results, races with exactly one winner, expiry, paging order, quotas) must be the same.
 * Engine-specific parts follow: migrations (PostgreSQL: replicas starting at once), the expiry
 * index in the sweep's plan, readiness when the database goes away and comes back.
 */
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRelayStore, type RelayStore, StoreUnavailableError } from "../src/relay/store";
import { PG_KV_SWEEP, PostgresRelayStore } from "../src/relay/store/postgres";
import { MIGRATIONS } from "../src/relay/store/postgres-schema";
import { SQLITE_KV_SWEEP, SqliteRelayStore } from "../src/relay/store/sqlite";
import { sha256 } from "../src/sys/secrets";
import { waitFor } from "./helpers";
import { PgCluster } from "./relay-store-pg";

const pg = new PgCluster();
beforeAll(() => pg.start(), 60_000);
afterAll(() => pg.stop());

const LIMITS = { total: 100, perSource: 5 };
const QUOTA = { keys: 5, bytes: 40 };

interface Engine {
  name: "sqlite" | "postgres";
  /** A fresh, empty store on the clock `now`. */
  open(now: () => number): Promise<{ store: RelayStore; where: string }>;
}

const dirs: string[] = [];
const opened: RelayStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ENGINES: Engine[] = [
  {
    name: "sqlite",
    async open(now) {
      const dir = mkdtempSync(join(tmpdir(), "cw-store-"));
      dirs.push(dir);
      return { store: new SqliteRelayStore(dir, { now, kvQuota: QUOTA }), where: dir };
    },
  },
  {
    name: "postgres",
    async open(now) {
      const url = await pg.database();
      return { store: await PostgresRelayStore.open(url, { now, kvQuota: QUOTA }), where: url };
    },
  },
];

for (const engine of ENGINES) {
  describe(`store on ${engine.name}`, () => {
    let clock = 0;
    const open = async () => {
      clock = Date.UTC(2026, 0, 1);
      const { store, where } = await engine.open(() => clock);
      opened.push(store);
      return { store, where };
    };

    test("nodes: register, look up by token hash, rotate, touch, list in name order, delete", async () => {
      const { store } = await open();
      const t1 = await store.registerNode("web-2");
      await store.registerNode("web-10");
      expect(await store.hasNode("web-2")).toBe(true);
      expect((await store.nodeByTokenHash(sha256(t1)))?.name).toBe("web-2");
      const t2 = await store.registerNode("web-2");
      expect(await store.nodeByTokenHash(sha256(t1))).toBeNull();
      expect((await store.nodeByTokenHash(sha256(t2)))?.name).toBe("web-2");
      clock += 5_000;
      await store.touchNode("web-2");
      const list = await store.listNodes();
      expect(list.map((n) => n.name)).toEqual(["web-10", "web-2"]);
      expect(list[1]!.last_seen_at).toBe(new Date(clock).toISOString());
      expect(list[0]!.last_seen_at).toBeNull();
      expect(await store.deleteNode("web-2")).toBe(true);
      expect(await store.deleteNode("web-2")).toBe(false);
      expect(await store.nodeByTokenHash(sha256(t2))).toBeNull();
    });

    test("invites: checked before the name, a taken name leaves the use, expiry by the clock, racers of the last use", async () => {
      const { store } = await open();
      expect(await store.redeemInvite("a", "nope")).toEqual({ error: "invalid_invite" });
      await store.registerNode("taken");
      const { invite, expiresAt } = await store.createInvite(1, 60);
      expect(expiresAt.getTime()).toBe(clock + 60_000);
      expect(await store.redeemInvite("taken", invite)).toEqual({ error: "name_taken" });
      // Eight redeemers of the one use left: exactly one gets a token, the others nothing.
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.redeemInvite(`n${i}`, invite)));
      expect(results.filter((r) => "token" in r).length).toBe(1);
      expect((await store.listNodes()).length).toBe(2);
      const late = await store.createInvite(3, 60);
      clock += 60_000;
      expect(await store.consumeInvite(late.invite)).toBe(false);
    });

    test("device requests: limits, pending, decision, one poll gets the token, denied, expired, unknown", async () => {
      const { store } = await open();
      const made = [];
      for (let i = 0; i < 5; i++) made.push(await store.createDeviceRequest(`d${i}`, 600, LIMITS, "10.0.0.1"));
      expect(await store.createDeviceRequest("d5", 600, LIMITS, "10.0.0.1")).toEqual({ error: "too_many_from_source" });
      expect(await store.createDeviceRequest("d5", 600, { total: 5, perSource: 5 }, "10.0.0.2")).toEqual({ error: "too_many" });
      const [a, b, c] = made as { deviceCode: string; userCode: string }[];
      expect(a!.userCode).toMatch(/^[A-Z]{8}$|^[A-Z0-9]{8}$/);
      expect(await store.pollDeviceRequest(a!.deviceCode)).toEqual({ status: "pending" });
      expect(await store.pendingDeviceRequest(a!.userCode)).toMatchObject({ name: "d0", secondsLeft: 600, replaces: false });
      expect((await store.decideDeviceRequest(a!.userCode, true))?.name).toBe("d0");
      expect(await store.decideDeviceRequest(a!.userCode, false)).toBeNull();
      // Four polls at once of the approved request: one token, the rest find it gone.
      const polls = await Promise.all(Array.from({ length: 4 }, () => store.pollDeviceRequest(a!.deviceCode)));
      const authorized = polls.filter((p) => p.status === "authorized");
      expect(authorized.length).toBe(1);
      expect(polls.filter((p) => p.status === "unknown").length).toBe(3);
      const { token, userToken } = authorized[0] as { token: string; userToken: string };
      expect((await store.nodeByTokenHash(sha256(token)))?.name).toBe("d0");
      expect((await store.userByTokenHash(sha256(userToken)))?.name).toBe("d0");
      await store.decideDeviceRequest(b!.userCode, false);
      expect(await store.pollDeviceRequest(b!.deviceCode)).toEqual({ status: "denied", name: "d1" });
      clock += 601_000;
      expect(await store.pendingDeviceRequest(c!.userCode)).toBeNull();
      expect(await store.pollDeviceRequest(c!.deviceCode)).toEqual({ status: "expired", name: "d2" });
      expect(await store.pollDeviceRequest(c!.deviceCode)).toEqual({ status: "unknown" });
    });

    test("user tokens and grants; deleting a node drops the grants to and from it", async () => {
      const { store } = await open();
      const t1 = await store.issueUserToken("ana");
      const t2 = await store.issueUserToken("ana");
      await store.issueUserToken("bo");
      expect(await store.userByTokenHash(sha256(t1))).toBeNull();
      expect(await store.userByTokenHash(sha256(t2))).toEqual({ name: "ana" });
      expect((await store.listUsers()).map((u) => u.name)).toEqual(["ana", "bo"]);
      expect(await store.deleteUser("bo")).toBe(true);
      expect(await store.deleteUser("bo")).toBe(false);
      for (const n of ["a", "b", "c"]) await store.registerNode(n);
      await store.grant("a", "b");
      await store.grant("a", "b");
      await store.grant("c", "*");
      await store.grant("b", "a");
      expect(await store.mayReach("a", "b")).toBe(true);
      expect(await store.mayReach("a", "c")).toBe(false);
      expect(await store.mayReach("c", "anything")).toBe(true);
      expect([...(await store.grants())]).toEqual([
        ["a", ["b"]],
        ["b", ["a"]],
        ["c", ["*"]],
      ]);
      expect(await store.revokeGrant("c", "*")).toBe(true);
      expect(await store.revokeGrant("c", "*")).toBe(false);
      await store.deleteNode("a");
      expect([...(await store.grants())]).toEqual([]);
    });

    test("the admin token's hash", async () => {
      const { store } = await open();
      expect(await store.adminTokenHash()).toBeNull();
      await store.setAdminTokenHash(sha256("one"));
      await store.setAdminTokenHash(sha256("two"));
      expect(await store.adminTokenHash()).toEqual(sha256("two"));
      expect(await store.readiness()).toEqual({ ok: true });
    });

    test("kv: set, get, set-if-absent with racers (exactly one wins), delete-if-value, namespaces apart", async () => {
      const { store } = await open();
      const { kv } = store;
      expect(await kv.set("ns", "k", "v1")).toEqual({ stored: true });
      expect(await kv.get("ns", "k")).toEqual({ key: "k", value: "v1", expires_at: null });
      expect(await kv.get("other", "k")).toBeNull();
      const racers = await Promise.all(Array.from({ length: 16 }, (_, i) => kv.set("ns", "lock", `owner-${i}`, 60, { ifAbsent: true })));
      expect(racers.filter((r) => r.stored).length).toBe(1);
      expect(racers.filter((r) => !r.stored && r.reason === "exists").length).toBe(15);
      const holder = (await kv.get("ns", "lock"))!.value;
      expect(await kv.delete("ns", "lock", { ifValue: "someone-else" })).toBe(false);
      expect(await kv.delete("ns", "lock", { ifValue: holder })).toBe(true);
      expect(await kv.delete("ns", "lock")).toBe(false);
    });

    test("kv: an expired key is never returned, may be taken again, and is swept", async () => {
      const { store } = await open();
      const { kv } = store;
      await kv.set("ns", "gone", "x", 0.2);
      await kv.set("ns", "stays", "y", 600);
      await waitFor(async () => (await kv.get("ns", "gone")) === null, "the key to expire", 5_000);
      expect((await kv.page("ns", "", { limit: 10, values: true })).entries.map((e) => e.key)).toEqual(["stays"]);
      expect(await kv.delete("ns", "gone")).toBe(false);
      // Not yet swept, yet absent: set-if-absent takes it; then it expires again and is swept.
      expect(await kv.set("ns", "gone", "again", 0.2, { ifAbsent: true })).toEqual({ stored: true });
      await waitFor(async () => (await kv.get("ns", "gone")) === null, "the key to expire again", 5_000);
      expect(await kv.sweep()).toBe(1);
      expect(await kv.sweep()).toBe(0);
      expect((await kv.get("ns", "stays"))?.value).toBe("y");
    });

    test("kv: keys and values of any text (NUL, unicode, slashes) round-trip; pages in byte order", async () => {
      const { store } = await open();
      const { kv } = store;
      const keys = ["z", "a/b", "é", "a", "a\u0000b", "日本", "A"];
      for (const k of keys.slice(0, 5)) expect(await kv.set("u", k, `v\u0000${k}`)).toEqual({ stored: true });
      expect(await kv.get("u", "a\u0000b")).toEqual({ key: "a\u0000b", value: "v\u0000a\u0000b", expires_at: null });
      const sorted = keys.slice(0, 5).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const all = await kv.page("u", "", { limit: 10, values: false });
      expect(all.entries.map((e) => e.key)).toEqual(sorted);
      expect(all.next).toBeNull();
      const first = await kv.page("u", "", { limit: 2, values: false });
      expect(first.entries.map((e) => e.key)).toEqual(sorted.slice(0, 2));
      const second = await kv.page("u", "", { limit: 2, values: false, after: first.next! });
      expect(second.entries.map((e) => e.key)).toEqual(sorted.slice(2, 4));
      expect((await kv.page("u", "a", { limit: 10, values: false })).entries.map((e) => e.key)).toEqual(["a", "a\u0000b", "a/b"]);
      // % and _ are not wildcards.
      await kv.set("w", "a_c", "1");
      await kv.set("w", "abc", "1");
      expect((await kv.page("w", "a_", { limit: 10, values: false })).entries.map((e) => e.key)).toEqual(["a_c"]);
      // A page with values stops at about maxBytes.
      const capped = await kv.page("u", "", { limit: 10, values: true, maxBytes: 1 });
      expect(capped.entries.length).toBe(1);
      expect(capped.next).toBe(sorted[0]!);
    });

    test("kv: a namespace's quota of keys and bytes; replacing counts the new size only; expired keys do not count", async () => {
      const { store } = await open();
      const { kv } = store;
      for (let i = 0; i < 5; i++) expect(await kv.set("q", `k${i}`, "12345678")).toEqual({ stored: true });
      expect(await kv.set("q", "k5", "1")).toMatchObject({ stored: false, reason: "quota", limit: "keys" });
      expect(await kv.set("q", "k0", "123456789")).toMatchObject({ stored: false, reason: "quota", limit: "bytes" });
      expect(await kv.set("q", "k0", "87654321")).toEqual({ stored: true });
      expect(await kv.set("other", "k", "x")).toEqual({ stored: true });
      await kv.delete("q", "k4");
      await kv.set("q", "short", "1", 0.2);
      await waitFor(async () => (await kv.get("q", "short")) === null, "the key to expire", 5_000);
      expect(await kv.set("q", "k4", "12345678")).toEqual({ stored: true });
      // Twenty writers of new keys at once into an empty namespace: the quota still holds.
      const racers = await Promise.all(Array.from({ length: 20 }, (_, i) => kv.set("race", `r${i}`, "x")));
      expect(racers.filter((r) => r.stored).length).toBe(QUOTA.keys);
      expect((await kv.page("race", "", { limit: 100, values: false })).entries.length).toBe(QUOTA.keys);
    });

    test("kv: what arrives in one turn (one batch) is done in arrival order, each with its own outcome", async () => {
      const { store } = await open();
      const { kv } = store;
      await kv.set("b", "old", "x");
      await kv.set("b", "owned", "me");
      for (let i = 0; i < QUOTA.keys; i++) await kv.set("full", `k${i}`, "v");
      // Started in one turn: one call of cw_kv_write_many on PostgreSQL, one transaction on SQLite.
      const writes = await Promise.all([
        kv.set("b", "lock", "a", 60, { ifAbsent: true }),
        kv.set("b", "lock", "b", 60, { ifAbsent: true }),
        kv.set("b", "lock", "c", 60, { ifAbsent: true }),
        kv.set("b", "k", "v"),
        kv.delete("b", "old"),
        kv.set("b", "big", "x".repeat(QUOTA.bytes + 1)),
        kv.delete("b", "owned", { ifValue: "you" }),
        kv.delete("b", "owned", { ifValue: "me" }),
        kv.set("b", "old", "again", undefined, { ifAbsent: true }),
        kv.delete("b", "nothing"),
        kv.set("full", "new1", "v"),
        kv.delete("full", "k0"),
        kv.set("full", "new2", "v"),
      ]);
      expect(writes).toEqual([
        { stored: true },
        { stored: false, reason: "exists" },
        { stored: false, reason: "exists" },
        { stored: true },
        true,
        { stored: false, reason: "quota", limit: "bytes", quota: QUOTA },
        false,
        true,
        { stored: true },
        false,
        { stored: false, reason: "quota", limit: "keys", quota: QUOTA },
        true,
        { stored: true },
      ]);
      // Gets of one turn, one query on PostgreSQL: each its own answer.
      const gets = await Promise.all(["lock", "k", "old", "big", "owned", "nothing"].map((k) => kv.get("b", k)));
      expect(gets.map((e) => e?.value ?? null)).toEqual(["a", "v", "again", null, null, null]);
      expect((await kv.page("full", "", { limit: 100, values: false })).entries.map((e) => e.key)).toEqual(["k1", "k2", "k3", "k4", "new2"]);
    });
  });
}

describe("sqlite only", () => {
  test("a database from before versions is brought up to date; one from a newer cw is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-store-"));
    dirs.push(dir);
    // The relay before versioned migrations: device_requests without `source`, user_version 0.
    const old = new Database(join(dir, "relay.db"), { create: true });
    old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value);
      CREATE TABLE nodes (name TEXT PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE, registered_at TEXT, last_seen_at TEXT NULL);
      CREATE TABLE invites (token_hash BLOB PRIMARY KEY, created_at TEXT, expires_at INTEGER, uses_left INTEGER);
      CREATE TABLE device_requests (device_hash BLOB PRIMARY KEY, user_code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at TEXT NOT NULL, expires_at INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'pending');
      INSERT INTO nodes VALUES ('kept', x'00', '2025-01-01T00:00:00.000Z', NULL);`);
    old.close();
    const store = new SqliteRelayStore(dir);
    expect((await store.listNodes()).map((n) => n.name)).toEqual(["kept"]);
    expect("deviceCode" in (await store.createDeviceRequest("d", 60, LIMITS, "10.0.0.1"))).toBe(true);
    await store.close();
    const db = new Database(join(dir, "relay.db"));
    expect((db.query("PRAGMA user_version").get() as { user_version: number }).user_version).toBeGreaterThanOrEqual(2);
    db.exec("PRAGMA user_version = 99");
    db.close();
    expect(() => new SqliteRelayStore(dir)).toThrow(/schema version 99, newer than this cw knows/);
  });

  test("the sweep of expired keys reads the expiry index, not the table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cw-store-"));
    dirs.push(dir);
    await new SqliteRelayStore(dir).close();
    const db = new Database(join(dir, "kv.db"));
    const plan = (db.query(`EXPLAIN QUERY PLAN ${SQLITE_KV_SWEEP}`).all(0) as { detail: string }[]).map((r) => r.detail).join("\n");
    db.close();
    expect(plan).toContain("INDEX kv_expires");
  });
});

describe("postgres only", () => {
  test("five replicas starting at once on an empty database: migrations applied once, all serve", async () => {
    const url = await pg.database();
    const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresRelayStore.open(url)));
    opened.push(...stores);
    const sql = new SQL(url);
    try {
      const rows = await sql`SELECT version FROM cw_schema_migrations ORDER BY version`;
      expect(rows.map((r: { version: number }) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      // What one replica writes, another reads.
      const token = await stores[0]!.registerNode("shared");
      expect((await stores[4]!.nodeByTokenHash(sha256(token)))?.name).toBe("shared");
      // Sixteen set-if-absent racers spread over the five replicas: one winner.
      const racers = await Promise.all(Array.from({ length: 16 }, (_, i) => stores[i % 5]!.kv.set("ns", "lock", `r${i}`, 60, { ifAbsent: true })));
      expect(racers.filter((r) => r.stored).length).toBe(1);
    } finally {
      await sql.close();
    }
  });

  test("a namespace's quota holds under writers racing on several replicas: exactly as many keys as it allows", async () => {
    const url = await pg.database();
    const stores = await Promise.all(Array.from({ length: 3 }, () => PostgresRelayStore.open(url, { kvQuota: QUOTA })));
    opened.push(...stores);
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => stores[i % 3]!.kv.set("race", `k${i}`, "v", undefined)));
    expect(results.filter((r) => r.stored).length).toBe(QUOTA.keys);
    expect(results.filter((r) => !r.stored && r.reason === "quota").length).toBe(24 - QUOTA.keys);
    expect((await stores[0]!.kv.page("race", "", { limit: 100, values: false })).entries.length).toBe(QUOTA.keys);
    // An expired key stops counting: the next set sweeps it and fits.
    const url2 = await pg.database();
    const s = await PostgresRelayStore.open(url2, { kvQuota: QUOTA });
    opened.push(s);
    for (let i = 0; i < QUOTA.keys - 1; i++) expect((await s.kv.set("ns", `k${i}`, "v")).stored).toBe(true);
    expect((await s.kv.set("ns", "short", "v", 0.05)).stored).toBe(true);
    expect((await s.kv.set("ns", "one-more", "v")).stored).toBe(false);
    // Once 50 ms have passed by the database's clock.
    const until = Date.now() + 5_000;
    while (!(await s.kv.set("ns", "one-more", "v")).stored) expect(Date.now()).toBeLessThan(until);
    expect((await s.kv.get("ns", "short"))).toBeNull();
  });

  test("replicas whose clocks disagree by two hours agree on expiry: it is the database's clock", async () => {
    const url = await pg.database();
    const [a, b] = await Promise.all([PostgresRelayStore.open(url), PostgresRelayStore.open(url)]);
    opened.push(a, b);
    const real = Date.now;
    try {
      // Replica a's clock an hour behind: by its own clock, what it gives 60 s would be long
      // expired for b, whose clock is an hour ahead.
      Date.now = () => real() - 3_600_000;
      expect((await a.kv.set("ns", "k", "v", 60)).stored).toBe(true);
      const { invite, expiresAt } = await a.createInvite(1, 60);
      const device = await a.createDeviceRequest("skewed", 60, LIMITS, "198.51.100.1");
      if ("error" in device) throw new Error(device.error);
      const signIn = await a.webSignIns.create("cookie-hash", "csrf", 60_000, 10);
      Date.now = () => real() + 3_600_000;
      expect((await b.kv.get("ns", "k"))?.value).toBe("v");
      expect((await b.kv.page("ns", "", { limit: 10, values: false })).entries.map((e) => e.key)).toEqual(["k"]);
      expect(await b.pendingDeviceRequest(device.userCode)).toMatchObject({ name: "skewed", secondsLeft: expect.any(Number) });
      expect((await b.pendingDeviceRequest(device.userCode))!.secondsLeft).toBeGreaterThan(50);
      expect(await b.webSignIns.get("cookie-hash")).toEqual({ csrf: "csrf", expiresAt: signIn });
      expect(await b.consumeInvite(invite)).toBe(true);
      // What the stores said expires when is the database's time plus the TTL.
      Date.now = real;
      for (const t of [expiresAt.getTime(), device.expiresAt, signIn]) expect(Math.abs(t - (Date.now() + 60_000))).toBeLessThan(10_000);
      expect(await b.kv.sweep()).toBe(0);
    } finally {
      Date.now = real;
    }
  });

  test("the sweep of expired keys reads the expiry index, not the table", async () => {
    const url = await pg.database();
    opened.push(await PostgresRelayStore.open(url));
    const sql = new SQL(url);
    try {
      const plan = await sql.begin(async (tx) => {
        // With sequential scans priced out, only a usable index keeps them out of the plan.
        await tx`SET LOCAL enable_seqscan = off`;
        return (await tx.unsafe(`EXPLAIN ${PG_KV_SWEEP}`, [0])).map((r: Record<string, string>) => Object.values(r)[0]).join("\n");
      });
      expect(plan).toContain("kv_expires");
      expect(plan).not.toContain("Seq Scan");
    } finally {
      await sql.close();
    }
  });

  test("a URL that is not PostgreSQL is refused with the password hidden", async () => {
    await expect(openRelayStore({ dataDir: "/nonexistent", databaseUrl: "mysql://u:hunter2@h/db" })).rejects.toThrow(/is not a PostgreSQL URL/);
    await expect(openRelayStore({ dataDir: "/nonexistent", databaseUrl: "mysql://u:hunter2@h/db" })).rejects.not.toThrow(/hunter2/);
  });

  test("connections cut by the server (an administrator, a failover) fail as unavailable, then work again", async () => {
    const url = await pg.database();
    const store = await PostgresRelayStore.open(url);
    opened.push(store);
    await store.registerNode("n");
    const admin = new SQL(pg.url());
    try {
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${new URL(url).pathname.slice(1)}`;
    } finally {
      await admin.close();
    }
    const outcome = await store.listNodes().then(
      () => "answered",
      (e) => (e instanceof StoreUnavailableError ? "unavailable" : `raw: ${(e as Error).message}`),
    );
    expect(["answered", "unavailable"]).toContain(outcome);
    await waitFor(async () => (await store.listNodes()).length === 1, "the store to answer again", 10_000, 100);
  });

  // Last: it stops the cluster under the store.
  test("when the database goes away: not ready, calls fail as unavailable; when it is back, both recover", async () => {
    const url = await pg.database();
    const store = await PostgresRelayStore.open(url);
    opened.push(store);
    await store.registerNode("survivor");
    await pg.halt();
    try {
      const r = await store.readiness();
      expect(r.ok).toBe(false);
      expect((r as { reason: string }).reason).toMatch(/database/);
      await expect(store.listNodes()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await pg.start();
    }
    await waitFor(async () => (await store.readiness()).ok, "the store to be ready again", 20_000, 200);
    expect((await store.listNodes()).map((n) => n.name)).toEqual(["survivor"]);
  }, 60_000);
});
