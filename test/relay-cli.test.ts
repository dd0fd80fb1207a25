/**
 * The relay as the seed shows it from the command line (issue 15): `cw setup --relay-url`,
 * refused tokens said as such, the seed's `cw launch dev-1 -- …`, addresses printed as
 * node:id, kv saying which store answered across `cw setup`, and `cw nodes`' LAST SEEN.
 * Each data dir stands for one machine.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { CwHome, RelayProcess, waitFor } from "./helpers";

let relay: RelayProcess;
let dev1: CwHome;
let dev2: CwHome;
const homes: CwHome[] = [];

/** A fresh machine, cleaned up after the file's tests. */
function machine(env: Record<string, string> = {}): CwHome {
  const h = new CwHome(env);
  homes.push(h);
  return h;
}

beforeAll(async () => {
  relay = new RelayProcess();
  await relay.start();
  // The nodes' heartbeat every 300 ms, so that LAST SEEN can be seen to move.
  dev1 = machine({ CW_RELAY_PING_MS: "300" });
  dev2 = machine();
  expect(await dev1.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "rc-dev-1"])).toContain("connected");
  expect(await dev2.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "rc-dev-2"])).toContain("connected");
});
afterAll(async () => {
  for (const h of homes) await h.cleanup();
  await relay?.cleanup();
});

describe("a node deleted from the relay", () => {
  test("its token refused: kv, nodes and node:id fail with rc 1 and say to run setup again", async () => {
    const m = machine();
    await m.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "rc-deleted"]);
    expect((await relay.api("DELETE", "/api/v1/nodes/rc-deleted")).status).toBe(200);
    for (const args of [["kv", "get", "k"], ["kv", "set", "k", "v"], ["nodes"], ["list", "rc-dev-1"]]) {
      const r = await m.run(args);
      expect(`${args.join(" ")} → ${r.code}`).toBe(`${args.join(" ")} → 1`);
      expect(r.stderr).toMatch(/deleted/);
    }
  });
});

