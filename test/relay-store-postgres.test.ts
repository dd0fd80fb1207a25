/**
 * `cw relay` on PostgreSQL with the compiled binary (CW_DATABASE_URL / --database): what it
 * stores outlives the relay's data dir, the KV lock race through it has one winner, /healthz and
 * /readyz answer for probes, and losing the database is a 503 with a reason, logged, and
 * recovered from when it is back. The SQLite relay answers /readyz too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { RelayError, RelayReady } from "../src/protocol/relay-api";
import { CwHome, RelayProcess, waitFor } from "./helpers";
import { PgCluster } from "./relay-store-pg";

const pg = new PgCluster();
let relay: RelayProcess;
let dev: CwHome;
let env: Record<string, string>;

beforeAll(async () => {
  await pg.start();
  env = { CW_DATABASE_URL: await pg.database(), CW_RELAY_DB_CHECK_MS: "200" };
  relay = new RelayProcess();
  await relay.start(0, { env });
  dev = new CwHome();
  expect(await dev.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "dev-1"])).toContain("connected");
}, 60_000);
afterAll(async () => {
  await dev?.cleanup();
  await relay?.cleanup();
  await pg.stop();
});

async function online(name: string): Promise<boolean> {
  const r = await dev.run(["nodes", "--json"]);
  return r.code === 0 && (JSON.parse(r.stdout) as { name: string; connected: boolean }[]).some((n) => n.name === name && n.connected);
}

describe("cw relay on PostgreSQL", () => {
  test("/healthz and /readyz answer; the log names the database without its password", async () => {
    expect((await relay.api("GET", "/healthz")).status).toBe(200);
    const ready = await relay.api("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(RelayReady.parse(ready.json).database).toBe("postgres");
    expect(relay.stderr).toContain(`(database ${env.CW_DATABASE_URL})`);
    expect(relay.stderr).toContain("applied migration 1");
  });

  test("nodes and keys live in the database: a relay started again with an empty data dir still has them", async () => {
    await dev.ok(["kv", "set", "--if-absent", "--ttl", "600s", "lock", "mine"]);
    const port = relay.port;
    await relay.stop();
    rmSync(relay.dataDir, { recursive: true, force: true });
    await relay.start(port, { env });
    expect(relay.stderr).not.toContain("applied migration");
    // The node reconnects by itself with the token the database still knows.
    await waitFor(() => online("dev-1"), "dev-1 to be back online", 20_000, 100);
    expect((await dev.ok(["kv", "get", "lock"])).trim()).toBe("mine");
    expect((await dev.run(["kv", "set", "--if-absent", "lock", "theirs"])).code).toBe(1);
    expect(existsSync(`${relay.dataDir}/relay.db`)).toBe(false);
  }, 60_000);

  test("losing the database: /readyz and the API say 503 unavailable, /healthz stays up, the log says so; then it recovers", async () => {
    await pg.halt();
    try {
      const ready = await waitFor(async () => {
        const r = await relay.api("GET", "/readyz");
        return r.status === 503 ? r : undefined;
      }, "/readyz to say 503", 15_000, 100);
      expect(RelayError.parse(ready.json).error).toBe("unavailable");
      expect(ready.json.message).toContain("database");
      expect((await relay.api("GET", "/healthz")).status).toBe(200);
      const list = await relay.api("GET", "/api/v1/nodes");
      expect(list.status).toBe(503);
      expect(RelayError.parse(list.json).hint).toContain("database");
      await waitFor(() => relay.stderr.includes("database unavailable"), "the relay to log the loss", 15_000, 100);
    } finally {
      await pg.start();
    }
    await waitFor(async () => (await relay.api("GET", "/readyz")).status === 200, "/readyz to be 200 again", 30_000, 200);
    await waitFor(() => relay.stderr.includes("database available again"), "the relay to log the recovery", 15_000, 100);
    expect((await relay.api("GET", "/api/v1/nodes")).json.nodes.map((n: { name: string }) => n.name)).toEqual(["dev-1"]);
  }, 90_000);

  test("--database with a URL that is not PostgreSQL is refused with a hint and without the password", async () => {
    const r = await dev.run(["relay", "--listen", "127.0.0.1:0", "--ssh-listen", "off", "--database", "mysql://u:hunter2@db/x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not a PostgreSQL URL");
    expect(r.stderr).toContain("hint: give postgres://");
    expect(r.stderr).not.toContain("hunter2");
  });

  test("a database that does not answer: exit 1 with the cause and a hint, the password hidden", async () => {
    const r = await dev.run(["relay", "--listen", "127.0.0.1:0", "--ssh-listen", "off"], { env: { CW_DATABASE_URL: "postgres://cw:hunter2@127.0.0.1:1/x" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot open the relay's store (database postgres://cw:***@127.0.0.1:1/x)");
    expect(r.stderr).toContain("hint: check the URL, that PostgreSQL runs");
    expect(r.stderr).not.toContain("hunter2");
  });
});

describe("cw relay on SQLite", () => {
  test("/readyz is 200 and names the engine", async () => {
    const plain = new RelayProcess();
    try {
      await plain.start();
      const ready = await plain.api("GET", "/readyz");
      expect(ready.status).toBe(200);
      expect(RelayReady.parse(ready.json).database).toBe("sqlite");
    } finally {
      await plain.cleanup();
    }
  });
});
