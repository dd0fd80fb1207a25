/**
 * `cw kv` as a lock, with the compiled binary: set --if-absent is atomic (16 processes race,
 * exactly one wins) on the node's own store and through a relay (racers on two nodes); delete
 * --if-value releases only the holder's lock; --ttl 0 is refused; the value limit is one number
 * of UTF-8 bytes on every path; --stdin and --file carry values too long for argv.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { KV_MAX_VALUE_BYTES } from "../src/protocol";
import { CwHome, RelayProcess, type RunResult, waitFor } from "./helpers";

const RACERS = 16;

/** RACERS processes, split over `homes`, each trying to take `key` with its own value. */
async function race(homes: CwHome[], key: string): Promise<{ winners: string[]; results: RunResult[] }> {
  const runs = Array.from({ length: RACERS }, (_, i) => homes[i % homes.length]!.run(["kv", "set", "--if-absent", "--ttl", "60s", key, `owner-${i}`]));
  const results = await Promise.all(runs);
  const winners = results.flatMap((r, i) => (r.code === 0 ? [`owner-${i}`] : []));
  for (const r of results) if (r.code !== 0) expect(r.stderr).toContain("already set");
  return { winners, results };
}

/** Three rounds of the race; between them the winner releases its own lock. */
async function lockRounds(homes: CwHome[]) {
  const first = homes[0]!;
  for (let round = 0; round < 3; round++) {
    const { winners } = await race(homes, "lock");
    expect(winners.length).toBe(1);
    expect((await first.ok(["kv", "get", "lock"])).trim()).toBe(winners[0]!);
    // A loser's release does nothing; the winner's frees the lock.
    const loser = winners[0] === "owner-0" ? "owner-1" : "owner-0";
    const wrong = await first.run(["kv", "delete", "--if-value", loser, "lock"]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("holds another value");
    expect((await first.ok(["kv", "get", "lock"])).trim()).toBe(winners[0]!);
    await first.ok(["kv", "delete", "--if-value", winners[0]!, "lock"]);
    expect((await first.run(["kv", "get", "lock"])).code).toBe(3);
  }
}

/** The value-limit and input checks every path shares. */
async function limits(home: CwHome) {
  // 0 no longer means "forever".
  const zero = await home.run(["kv", "set", "--ttl", "0", "k", "v"]);
  expect(zero.code).toBe(2);
  expect(zero.stderr).toContain("--ttl must be more than 0");
  expect((await home.run(["kv", "get", "k"])).code).toBe(3);

  // Exactly the limit in bytes of UTF-8 (3-byte characters: far fewer UTF-16 units) is stored...
  const full = "€".repeat(Math.floor(KV_MAX_VALUE_BYTES / 3)) + "x".repeat(KV_MAX_VALUE_BYTES % 3);
  expect(Buffer.byteLength(full)).toBe(KV_MAX_VALUE_BYTES);
  await home.ok(["kv", "set", "--stdin", "big"], { stdin: full });
  expect((await home.ok(["kv", "get", "big"])).length).toBe(full.length + 1);
  // ...and one byte more is refused, by the same words, before anything is sent.
  const file = home.path("over.txt");
  writeFileSync(file, `${full}x`);
  const over = await home.run(["kv", "set", "--file", file, "big2"]);
  expect(over.code).toBe(2);
  expect(over.stderr).toContain(`at most ${KV_MAX_VALUE_BYTES} bytes`);
  expect((await home.run(["kv", "get", "big2"])).code).toBe(3);

  // A value given twice is a usage error.
  expect((await home.run(["kv", "set", "--file", file, "k", "v"])).code).toBe(2);
  await home.ok(["kv", "delete", "big"]);
}

describe("locally (the node's own store)", () => {
  let home: CwHome;
  beforeAll(() => {
    home = new CwHome();
  });
  afterAll(async () => {
    await home?.cleanup();
  });

  test(`${RACERS} processes race set --if-absent: exactly one wins, each round`, async () => {
    await home.ok(["start"]);
    await lockRounds([home]);
  });

  test("an expired lock can be taken again", async () => {
    await home.ok(["kv", "set", "--if-absent", "--ttl", "0.3s", "short", "a"]);
    expect((await home.run(["kv", "set", "--if-absent", "short", "b"])).code).toBe(1);
    await waitFor(async () => (await home.run(["kv", "set", "--if-absent", "short", "b"])).code === 0, "the expired lock to be taken", 5000, 50);
    expect((await home.ok(["kv", "get", "short"])).trim()).toBe("b");
  });

  test("--ttl 0 is refused; the value limit is bytes of UTF-8; --stdin and --file", async () => {
    await limits(home);
  });
});

describe("through a relay", () => {
  let relay: RelayProcess;
  let dev1: CwHome;
  let dev2: CwHome;
  beforeAll(async () => {
    relay = new RelayProcess();
    await relay.start();
    dev1 = new CwHome();
    dev2 = new CwHome();
    await dev1.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "dev-1"]);
    await dev2.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "dev-2"]);
  });
  afterAll(async () => {
    await dev1?.cleanup();
    await dev2?.cleanup();
    await relay?.cleanup();
  });

  test(`${RACERS} processes on two nodes race set --if-absent: exactly one wins, each round`, async () => {
    await lockRounds([dev1, dev2]);
  });

  test("--ttl 0 is refused; the value limit is bytes of UTF-8; --stdin and --file", async () => {
    await limits(dev1);
  });

  test("HTTP: If-None-Match: * gets 412 when the key is set; a raw body with X-TTL", async () => {
    const put = (headers: Record<string, string>, body: string) =>
      fetch(`${relay.url}/api/v1/kv/default/h`, { method: "PUT", headers: { Authorization: `Bearer ${relay.adminToken}`, "Content-Type": "text/plain", ...headers }, body });
    expect((await put({ "If-None-Match": "*", "X-TTL": "60" }, "first")).status).toBe(200);
    const again = await put({ "If-None-Match": "*" }, "second");
    expect(again.status).toBe(412);
    expect(((await again.json()) as { error: string }).error).toBe("precondition_failed");
    expect((await dev1.ok(["kv", "get", "h", "--json"])).includes('"first"')).toBe(true);
    expect((await put({ "X-TTL": "0" }, "x")).status).toBe(400);
  });
});
