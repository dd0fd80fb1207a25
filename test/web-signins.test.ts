/**
 * Browser sign-ins (src/web/signins.ts) and sign-in codes (code-signin.ts): expiry, revocation,
 * CSRF, codes used once. The same behaviour from each place they are kept: `cw web`'s memory,
 * and a relay's store (relay-signins.ts) on SQLite, with a clock the test moves; and on
 * PostgreSQL, whose expiry is the database's own clock (not moved: what needs no waiting).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresRelayStore } from "../src/relay/store/postgres";
import { SqliteRelayStore } from "../src/relay/store/sqlite";
import type { RelayStore } from "../src/relay/store";
import { CODE_TTL_MS, type CodeBook, CodeSignIns } from "../src/web/code-signin";
import { StoredCodeSignIns, StoredSignIns } from "../src/web/relay-signins";
import { cookieValue, SIGNIN_TTL_MS, type SignInBook, SignIns } from "../src/web/signins";
import { PgCluster } from "./relay-store-pg";

interface Books {
  signIns: SignInBook;
  codes: CodeBook;
}

let now = 1_000_000;
const dirs: string[] = [];
const stores: RelayStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const timed: [string, () => Books][] = [
  ["memory", () => ({ signIns: new SignIns(() => now), codes: new CodeSignIns(() => now) })],
  [
    "the SQLite store",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "cw-web-signins-"));
      dirs.push(dir);
      const store = new SqliteRelayStore(dir, { now: () => now });
      stores.push(store);
      return { signIns: new StoredSignIns(store.webSignIns), codes: new StoredCodeSignIns(store.webSignIns) };
    },
  ],
];

for (const [where, make] of timed) {
  describe(`sign-ins in ${where}`, () => {
    test("a sign-in lasts its time and no longer, and signing out ends it at once", async () => {
      const { signIns: s } = make();
      const a = await s.create();
      const b = await s.create();
      expect((await s.get(a.id))?.csrf).toBe(a.signIn.csrf);
      now += SIGNIN_TTL_MS - 1;
      expect(await s.get(a.id)).toBeDefined();
      await s.revoke(b.id);
      expect(await s.get(b.id)).toBeUndefined();
      now += 1;
      expect(await s.get(a.id)).toBeUndefined();
      expect(await s.get(undefined)).toBeUndefined();
      expect(await s.get("made-up")).toBeUndefined();
    });

    test("a code is approved once, polled as approved once, and expires unapproved", async () => {
      const { codes } = make();
      const a = (await codes.start())!;
      const b = (await codes.start())!;
      expect(a.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      expect(await codes.poll(a.pollId)).toBe("pending");
      expect(await codes.approve("ZZZZ-ZZZZ")).toBe(false);
      expect(await codes.approve(a.code.toLowerCase().replace("-", ""))).toBe(true);
      expect(await codes.approve(a.code)).toBe(false);
      expect(await codes.poll(a.pollId)).toBe("approved");
      expect(await codes.poll(a.pollId)).toBe("unknown");
      now += CODE_TTL_MS;
      expect(await codes.approve(b.code)).toBe(false);
      const c = (await codes.start())!;
      now += CODE_TTL_MS;
      expect(await codes.poll(c.pollId)).toBe("expired");
    });

    test("only so many codes wait at once", async () => {
      const { codes } = make();
      const started = [];
      for (let i = 0; i < 60; i++) started.push(await codes.start());
      expect(started.filter(Boolean).length).toBe(50);
    });
  });
}

describe("sign-ins in the PostgreSQL store", () => {
  const pg = new PgCluster();
  let a: PostgresRelayStore;
  let b: PostgresRelayStore;
  beforeAll(async () => {
    await pg.start();
    const url = await pg.database();
    a = await PostgresRelayStore.open(url);
    b = await PostgresRelayStore.open(url);
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await pg.stop();
  });

  test("a sign-in made through one store is live through another on the database, and revoked for both", async () => {
    const onA = new StoredSignIns(a.webSignIns);
    const onB = new StoredSignIns(b.webSignIns);
    const { id, signIn } = await onA.create();
    // The database's clock set the expiry: about 12 hours from now, whatever this process says.
    expect(Math.abs(signIn.expiresAt - (Date.now() + SIGNIN_TTL_MS))).toBeLessThan(60_000);
    expect(await onB.get(id)).toEqual(signIn);
    await onB.revoke(id);
    expect(await onA.get(id)).toBeUndefined();
  });

  test("a code shown through one store is approved through another, and polled approved once", async () => {
    const codesA = new StoredCodeSignIns(a.webSignIns);
    const codesB = new StoredCodeSignIns(b.webSignIns);
    const c = (await codesA.start())!;
    expect(await codesA.poll(c.pollId)).toBe("pending");
    expect(await codesB.approve(c.code)).toBe(true);
    const polls = await Promise.all([codesA.poll(c.pollId), codesB.poll(c.pollId)]);
    expect(polls.sort()).toEqual(["approved", "unknown"]);
  });

  test("only so many codes wait at once, across stores started together", async () => {
    const codes = [new StoredCodeSignIns(a.webSignIns), new StoredCodeSignIns(b.webSignIns)];
    const started = await Promise.all(Array.from({ length: 60 }, (_, i) => codes[i % 2]!.start()));
    // Counted under a lock in the database: not 50 per replica.
    expect(started.filter(Boolean).length).toBe(50);
  });
});

test("the CSRF token is the sign-in's own; a cookie is read from the header by name", async () => {
  const s = new SignIns();
  const { signIn } = await s.create();
  const other = (await s.create()).signIn;
  expect(SignIns.csrfOk(signIn, signIn.csrf)).toBe(true);
  expect(SignIns.csrfOk(signIn, other.csrf)).toBe(false);
  expect(SignIns.csrfOk(signIn, "")).toBe(false);
  expect(SignIns.csrfOk(signIn, undefined)).toBe(false);
  expect(cookieValue("a=1; cw_session=xyz; b=2", "cw_session")).toBe("xyz");
  expect(cookieValue("not_cw_session=xyz", "cw_session")).toBeUndefined();
  expect(cookieValue(null, "cw_session")).toBeUndefined();
});
