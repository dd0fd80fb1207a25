/**
 * The relay's mail rate limits with the compiled binary: a relay that takes two envelopes at
 * once from one sender (then one every ten seconds) refuses the third with a clear error, and
 * the sending CLI says what happened and when to try again.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { CwHome, RelayProcess, waitFor } from "./helpers";

let relay: RelayProcess;
let a: CwHome;
let b: CwHome;

beforeAll(async () => {
  relay = new RelayProcess();
  await relay.start(0, { env: { CW_NODE_ACCESS: "all", CW_MAIL_RATE_SENDER: "0.1/2" } });
  const node = async (name: string) => {
    const home = new CwHome();
    await home.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", name]);
    return home;
  };
  [a, b] = await Promise.all([node("lim-a"), node("lim-b")]);
  await b.ok(["launch", "coder", "--", "sleep", "600"]);
  await a.ok(["launch", "x", "--", "sleep", "600"]);
  await waitFor(() => {
    const db = new Database(relay.path("data", "trust.db"));
    try {
      return (db.query("SELECT count(*) AS n FROM node_cards").get() as { n: number }).n === 2;
    } finally {
      db.close();
    }
  }, "both nodes' cards", 15_000);
});
afterAll(async () => {
  for (const home of [a, b]) await home?.cleanup();
  await relay?.cleanup();
});

test("a sender past its burst is refused with 429: the CLI says so, and when to try again", async () => {
  expect((await a.run(["msg", "lim-b:coder", "one"])).code).toBe(0);
  expect((await a.run(["msg", "lim-b:coder", "two"])).code).toBe(0);
  const third = await a.run(["msg", "lim-b:coder", "three"]);
  expect(third.code).toBe(1);
  expect(third.stderr).toMatch(/sending faster than this relay takes from one sender/);
  expect(third.stderr).toMatch(/try again in \d+ s/);
});
