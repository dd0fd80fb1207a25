/**
 * The relay's trust store (handles, node cards, mail, the federation queue and its notices), one
 * suite on both engines: SQLite (trust.db in a temp dir) and PostgreSQL (a private cluster, a
 * fresh database per test). Races that must have one winner (a handle claimed by two keys at
 * once, two replicas taking the same queue head) are run for real. Then two `cw relay` replicas
 * on one database, with the compiled binary: a handle claimed through one is published by the
 * other, and a message between the owner's nodes posted on one is fetched on the other.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresRelayStore } from "../src/relay/store/postgres";
import { SqliteTrust } from "../src/relay/store/sqlite-trust";
import { nodeMailbox, openTrust, type RelayTrust } from "../src/relay/store/trust";
import { CwHome, RelayProcess, waitFor } from "./helpers";
import { PgCluster } from "./relay-store-pg";

const pg = new PgCluster();
beforeAll(() => pg.start(), 60_000);
afterAll(() => pg.stop());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ENGINES: { name: string; open(): Promise<RelayTrust[]> }[] = [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "cw-trust-"));
      const t = new SqliteTrust(dir);
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => t.close());
      // One process: a second handle on the same file stands in for a second caller.
      const t2 = new SqliteTrust(dir);
      cleanups.push(() => t2.close());
      return [t, t2];
    },
  },
  {
    name: "postgres",
    async open() {
      const url = await pg.database();
      // Two stores on one database: two replicas.
      const [s1, s2] = [await PostgresRelayStore.open(url), await PostgresRelayStore.open(url)];
      cleanups.push(() => s1.close(), () => s2.close());
      return [await openTrust(s1, "/nonexistent"), await openTrust(s2, "/nonexistent")];
    },
  },
];

for (const engine of ENGINES) {
  describe(`trust store on ${engine.name}`, () => {
    test("handles: first come; the same key re-claims; two keys at once, one wins", async () => {
      const [a, b] = await engine.open();
      expect(await a!.claim("alice", "box-1", "fp-a", "{}")).toEqual({ reclaimed: false });
      expect(await b!.claim("alice", "box-2", "fp-a", '{"v":2}')).toEqual({ reclaimed: true });
      expect(await a!.handle("alice")).toMatchObject({ node: "box-2", fingerprint: "fp-a", card: '{"v":2}' });
      expect(await b!.claim("alice", "box-3", "fp-other", "{}")).toEqual({ error: "taken" });
      const race = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a! : b!).claim("bob", `box-${i}`, `fp-${i}`, "{}")));
      expect(race.filter((r) => "reclaimed" in r).length).toBe(1);
      expect(await a!.handlesOf("box-2")).toEqual(["alice"]);
      expect(await a!.handle("nobody")).toBeNull();
    });

    test("node cards: set, replaced by a new key, read by any caller", async () => {
      const [a, b] = await engine.open();
      expect(await a!.nodeCard("dev-1")).toBeNull();
      await a!.setNodeCard("dev-1", "fp-1", "card-1");
      await b!.setNodeCard("dev-1", "fp-2", "card-2");
      expect(await a!.nodeCard("dev-1")).toEqual({ node: "dev-1", fingerprint: "fp-2", card: "card-2" });
    });

    test("mail: a node takes its handles' and its own mailbox's, in order, and acknowledges only its own", async () => {
      const [a, b] = await engine.open();
      await a!.claim("alice", "box-a", "fp-a", "{}");
      await a!.claim("bob", "box-b", "fp-b", "{}");
      const s1 = await a!.putMail("bob", "e1");
      const s2 = await b!.putMail(nodeMailbox("box-b"), "e2");
      await a!.putMail("alice", "e3");
      expect(await b!.mailCount("bob")).toBe(1);
      expect(await b!.mailFor("box-b")).toEqual([{ seq: s1, envelope: "e1" }, { seq: s2, envelope: "e2" }]);
      expect(await a!.ack("box-a", [s1, s2])).toBe(0);
      expect(await a!.ack("box-b", [s1, s2])).toBe(2);
      expect(await b!.mailFor("box-b")).toEqual([]);
      expect((await a!.mailFor("box-a")).map((m) => m.envelope)).toEqual(["e3"]);
      await a!.expire(-1000); // everything is older than a second from now
      expect(await a!.mailFor("box-a")).toEqual([]);
    });

    test("the outbound queue: heads per host in order; of two replicas taking a head, one does", async () => {
      const [a, b] = await engine.open();
      const t = Date.now();
      const q1 = await a!.queueOutbound("relay-b.test", "alice", "x1", t);
      await a!.queueOutbound("relay-b.test", "alice", "x2", t);
      const q3 = await b!.queueOutbound("relay-c.test", "alice", "y1", t);
      expect(await a!.hasOutbound("relay-b.test")).toBe(true);
      expect(await a!.hasOutbound("relay-d.test")).toBe(false);
      expect((await b!.outboundHeads()).map((h) => [h.seq, h.host, h.envelope, h.attempts, h.next_at]).sort()).toEqual([
        [q1, "relay-b.test", "x1", 0, t],
        [q3, "relay-c.test", "y1", 0, t],
      ].sort());
      const taken = await Promise.all([a!.claimOutbound(q1, t, t + 30_000), b!.claimOutbound(q1, t, t + 30_000)]);
      expect(taken.filter(Boolean).length).toBe(1);
      await a!.deferOutbound(q1, t + 500, "refused");
      expect((await a!.outboundHeads()).find((h) => h.seq === q1)).toMatchObject({ attempts: 1, next_at: t + 500, last_error: "refused" });
      await b!.dropOutbound(q1);
      expect((await a!.outboundHeads()).find((h) => h.host === "relay-b.test")!.envelope).toBe("x2");
    });

    test("notices: for the node holding the sender's handle, acknowledged only by it", async () => {
      const [a, b] = await engine.open();
      await a!.claim("alice", "box-a", "fp-a", "{}");
      await a!.putNotice("alice", '{"kind":"undeliverable"}');
      const [n] = await b!.noticesFor("box-a");
      expect(n!.notice).toBe('{"kind":"undeliverable"}');
      expect(await b!.noticesFor("box-b")).toEqual([]);
      expect(await b!.ackNotices("box-b", [n!.seq])).toBe(0);
      expect(await b!.ackNotices("box-a", [n!.seq])).toBe(1);
      expect(await a!.noticesFor("box-a")).toEqual([]);
    });
  });
}

describe("two cw relay replicas on one database", () => {
  const ADMIN = `admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  let ra: RelayProcess;
  let rb: RelayProcess;
  let dev1: CwHome;
  let dev2: CwHome;

  beforeAll(async () => {
    const env = { CW_DATABASE_URL: await pg.database(), CW_REPLICA_SECRET: "s".repeat(32), CW_REPLICA_HEARTBEAT_MS: "500", CW_NODE_ACCESS: "all" };
    ra = new RelayProcess(ADMIN);
    rb = new RelayProcess(ADMIN);
    await ra.start(0, { env });
    await rb.start(0, { env });
    dev1 = new CwHome();
    dev2 = new CwHome();
    await dev1.ok(["setup", ra.url, "--token", ADMIN, "--name", "dev-1"]);
    await dev2.ok(["setup", rb.url, "--token", ADMIN, "--name", "dev-2"]);
    await dev2.ok(["launch", "coder", "--", "sleep", "600"]);
    await dev1.ok(["launch", "planner", "--", "sleep", "600"]);
  }, 60_000);
  afterAll(async () => {
    await dev1?.cleanup();
    await dev2?.cleanup();
    await ra?.cleanup();
    await rb?.cleanup();
  });

  test("a handle claimed through replica A is published by replica B; neither keeps a trust.db", async () => {
    const host = new URL(ra.url).host;
    await dev1.ok(["id", "claim", "alice"]);
    const card = await rb.api("GET", "/api/v1/handles/alice");
    expect(card.status).toBe(200);
    expect(card.json.card.name).toBe(`alice@${host}`);
    expect(await Bun.file(ra.path("data", "trust.db")).exists()).toBe(false);
    expect(await Bun.file(rb.path("data", "trust.db")).exists()).toBe(false);
  });

  test("between the owner's nodes: posted on replica A, fetched on replica B, end to end", async () => {
    await waitFor(async () => (await rb.api("GET", "/api/v1/node-cards/dev-1", undefined, ADMIN)).status === 200 && (await ra.api("GET", "/api/v1/node-cards/dev-2", undefined, ADMIN)).status === 200, "both nodes' cards", 15_000);
    expect((await dev1.run(["msg", "-f", "planner", "dev-2:coder", "across replicas, sealed"])).code).toBe(0);
    const got = await waitFor(async () => (JSON.parse(await dev2.ok(["inbox", "coder", "--json", "--peek"])).messages as any[]).find((m) => m.body === "across replicas, sealed"), "the message on dev-2 (held by replica B)", 15_000);
    expect(got.from).toMatchObject({ node: "dev-1", name: "planner" });
  });
});
