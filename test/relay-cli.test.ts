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

describe("cw setup as the seed writes it", () => {
  test("--relay-url with --invite registers; the URL twice, differently, is a usage error", async () => {
    const m = machine();
    const { json } = await relay.api("POST", "/api/v1/invites", { uses: 1 });
    expect(await m.ok(["setup", "--relay-url", relay.url, "--invite", json.invite, "--name", "rc-invited"])).toContain("registered rc-invited");
    const two = await machine().run(["setup", relay.url, "--relay-url", "http://127.0.0.1:1", "--token", "x"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("two relay URLs");
  });

  test("--token with --invite is a usage error; a wrong admin token is said to be wrong", async () => {
    const m = machine();
    const both = await m.run(["setup", relay.url, "--token", relay.adminToken!, "--invite", "abc", "--name", "rc-both"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--token and --invite");
    const wrong = await m.run(["setup", relay.url, "--token", "not-the-admin-token", "--name", "rc-wrong"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused the admin token");
    expect(wrong.stderr).not.toContain("may have been deleted");
    expect(existsSync(m.path("relay.toml"))).toBe(false);
  });
});

describe("launching on a node by name", () => {
  test("cw launch <node> -- … launches there, says so, and prints node:id", async () => {
    const r = await dev2.run(["launch", "rc-dev-1", "--", "bash", "-c", "echo on-dev-1; sleep 30"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("launching on node rc-dev-1");
    const addr = r.stdout.trim();
    expect(addr).toMatch(/^rc-dev-1:\d+$/);
    // Not a local session named rc-dev-1, but a session on dev-1, reachable by the address printed.
    expect((await dev2.list()).some((s) => s.name === "rc-dev-1")).toBe(false);
    const id = Number(addr.split(":")[1]);
    expect((await dev1.session(id)).status).toBe("running");
    await waitFor(async () => (await dev2.ok(["logs", addr])).includes("on-dev-1"), "its output through the relay");
    await dev2.ok(["kill", addr]);
  });

  test("--node prints node:id; node:name names the session there", async () => {
    const a = (await dev2.ok(["launch", "--node", "rc-dev-1", "--", "sleep", "30"])).trim();
    expect(a).toMatch(/^rc-dev-1:\d+$/);
    const b = (await dev2.ok(["--node", "rc-dev-1", "launch", "--", "sleep", "30"])).trim();
    expect(b).toMatch(/^rc-dev-1:\d+$/);
    const c = (await dev2.ok(["launch", "rc-dev-1:rc-named", "--", "sleep", "30"])).trim();
    expect(c).toMatch(/^rc-dev-1:\d+$/);
    expect((await dev1.session("rc-named")).status).toBe("running");
    // A node's name with --name beside it: the node, and the session's name.
    const d = (await dev2.ok(["launch", "rc-dev-1", "--name", "rc-other", "--", "sleep", "30"])).trim();
    expect(d).toMatch(/^rc-dev-1:\d+$/);
    expect((await dev1.session("rc-other")).status).toBe("running");
    await dev1.ok(["kill", "--all"]);
  });

  test("this machine's own node name is ambiguous: refused with both ways to say it", async () => {
    const r = await dev2.run(["launch", "rc-dev-2", "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("rc-dev-2:");
    expect(r.stderr).toContain("--name rc-dev-2");
    expect((await dev2.list()).some((s) => s.name === "rc-dev-2")).toBe(false);
    // A word that names no node is still a session name here.
    const named = (await dev2.ok(["launch", "rc-plain-name", "--", "true"])).trim();
    expect(named).toMatch(/^\d+$/);
  });
});

describe("cw kv and cw setup", () => {
  test("keys of the local store are not lost from view by setup: it says so, and --local reaches them", async () => {
    const m = machine();
    const before = await m.run(["kv", "set", "rc-local-key", "kept"]);
    expect(before.stderr).toContain("local store");
    const setup = await m.run(["setup", relay.url, "--token", relay.adminToken!, "--name", "rc-kv"]);
    expect(setup.code).toBe(0);
    expect(setup.stderr).toContain("1 key in this node's local store");
    expect(setup.stderr).toContain("cw kv list --local");
    // The relay's store answers now, and says nothing about a local store.
    const shared = await m.run(["kv", "get", "rc-local-key"]);
    expect(shared.code).toBe(3);
    expect(shared.stderr).not.toContain("local store");
    const local = await m.run(["kv", "get", "rc-local-key", "--local"]);
    expect(local.stdout).toBe("kept\n");
    expect(local.stderr).toContain("local store (--local)");
  });
});

describe("a node deleted from the relay", () => {
  test("its token refused: kv fails with rc 1 and says to run setup again; the person's own token still reaches the relay", async () => {
    const m = machine();
    await m.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "rc-deleted"]);
    expect((await relay.api("DELETE", "/api/v1/nodes/rc-deleted")).status).toBe(200);
    for (const args of [["kv", "get", "k"], ["kv", "set", "k", "v"]]) {
      const r = await m.run(args);
      expect(`${args.join(" ")} → ${r.code}`).toBe(`${args.join(" ")} → 1`);
      expect(r.stderr).toMatch(/deleted/);
    }
    // nodes and node:id act with the user token setup wrote, which deleting the node leaves be.
    expect((await m.run(["nodes"])).code).toBe(0);
    expect((await m.run(["list", "rc-dev-1"])).code).toBe(0);
  });
});

describe("cw nodes", () => {
  test("LAST SEEN is the node's last heartbeat, not when it connected", async () => {
    const seen = async () => (JSON.parse(await dev2.ok(["nodes", "--json"])) as { name: string; last_seen_at: string }[]).find((n) => n.name === "rc-dev-1")!.last_seen_at;
    const first = Date.parse(await seen());
    await waitFor(async () => Date.parse(await seen()) > first + 500, "last_seen_at to follow the heartbeats", 15_000);
  });
});
