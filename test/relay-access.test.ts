/**
 * Least privilege on the relay, with the compiled binary: a node's token is that node and no
 * other (no listing, no reaching, no SSH to other nodes) until the operator grants it; the
 * owner's `cw setup` (admin token) gives the machine a user token that reaches every node;
 * user tokens are listed and revoked with `cw tokens`; grants are shown by `cw nodes`; the
 * relay's data dir and databases are private even when the dir existed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { Client } from "ssh2";
import { CwHome, RelayProcess, waitFor } from "./helpers";

let relay: RelayProcess;
let owner: CwHome;
let ci: CwHome;
const admin = () => ({ env: { CW_AUTH_TOKEN: relay.adminToken! } });

beforeAll(async () => {
  relay = new RelayProcess();
  // The data dir exists already, readable by all, as a careless mkdir leaves it.
  mkdirSync(relay.dataDir, { recursive: true, mode: 0o755 });
  chmodSync(relay.dataDir, 0o755);
  await relay.start(0, { ssh: true });
  owner = new CwHome();
  ci = new CwHome();
  await owner.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "dev-1"]);
  const { json } = await relay.api("POST", "/api/v1/invites", { uses: 1 });
  await ci.ok(["setup", relay.url, "--invite", json.invite, "--name", "ci"]);
});
afterAll(async () => {
  await owner?.cleanup();
  await ci?.cleanup();
  await relay?.cleanup();
});

/** Whether an SSH login to `user` with `password` is accepted. */
async function sshLogin(user: string, password: string): Promise<boolean> {
  const client = new Client();
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve()).once("error", reject);
      client.connect({ sock: connect(relay.sshPort, "127.0.0.1"), username: user, password, readyTimeout: 10_000 });
    });
    return true;
  } catch {
    return false;
  } finally {
    client.end();
  }
}

const nodeToken = (home: CwHome) => /^token = "([^"]+)"/m.exec(readFileSync(home.path("relay.toml"), "utf8"))![1]!;

describe("a node's token", () => {
  test("invite: a node token only; the owner's setup: a node token and a user token", () => {
    expect(readFileSync(ci.path("relay.toml"), "utf8")).not.toContain("user_token");
    expect(readFileSync(owner.path("relay.toml"), "utf8")).toContain("user_token");
  });

  test("cannot reach, list or log in to another node, and the error says what it may do", async () => {
    const list = await ci.run(["list", "dev-1"]);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain("may not reach node dev-1");
    expect(list.stderr).toContain("cw grant ci dev-1");
    const nodes = await ci.run(["nodes"]);
    expect(nodes.code).not.toBe(0);
    expect(nodes.stderr).toContain("only connects that node and uses the key-value store");
    expect(await sshLogin("dev-1", nodeToken(ci))).toBe(false);
    // The relay's log arrives through a pipe, maybe after the refusal did: poll for it.
    await waitFor(() => relay.stderr.includes("the token of node ci may not reach dev-1"), "the relay to log the refusal");
    // What it may do: be itself, and the shared KV.
    expect(await sshLogin("ci", nodeToken(ci))).toBe(true);
    await ci.ok(["kv", "set", "from-ci", "yes"]);
    expect((await owner.ok(["kv", "get", "from-ci"])).trim()).toBe("yes");
  });

  test("reaches what the operator grants, shown by cw nodes, until the grant is taken back", async () => {
    expect(await ci.ok(["grant", "ci", "dev-1"], admin())).toContain("ci may now reach dev-1");
    expect((await ci.ok(["list", "dev-1", "--json"])).trim()).toBe("[]");
    expect(await sshLogin("dev-1", nodeToken(ci))).toBe(true);
    const shown = JSON.parse(await owner.ok(["nodes", "--json"])) as { name: string; may_reach: string[] }[];
    expect(shown.find((n) => n.name === "ci")!.may_reach).toEqual(["dev-1"]);
    expect(shown.find((n) => n.name === "dev-1")!.may_reach).toEqual([]);
    expect(await owner.ok(["nodes"])).toMatch(/ci\s+online.*dev-1/);
    await ci.ok(["grant", "ci", "dev-1", "--revoke"], admin());
    expect((await ci.run(["list", "dev-1"])).stderr).toContain("may not reach node dev-1");
  });
});

describe("user tokens", () => {
  test("the owner's machine reaches every node; cw tokens lists and revokes, which leaves its node connected", async () => {
    expect((await owner.ok(["list", "ci", "--json"])).trim()).toBe("[]");
    const listed = JSON.parse(await owner.ok(["tokens", "--json"], admin())) as { name: string }[];
    expect(listed.map((u) => u.name)).toEqual(["dev-1"]);
    // Without the admin token: refused, saying so.
    const noAdmin = await owner.run(["tokens"]);
    expect(noAdmin.code).toBe(2);
    await owner.ok(["tokens", "revoke", "dev-1"], admin());
    const after = await owner.run(["list", "ci"]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("refused this machine's token");
    expect(after.stderr).toContain("cw setup");
    // Its node token was not the one revoked: the node stays connected and serves.
    const { json } = await relay.api("GET", "/api/v1/nodes");
    expect((json.nodes as { name: string; connected: boolean }[]).find((n) => n.name === "dev-1")?.connected).toBe(true);
    expect((await ci.ok(["kv", "get", "from-ci"])).trim()).toBe("yes");
  });
});

describe("files", () => {
  test("the relay's data dir is 0700 and its databases 0600, though the dir existed", () => {
    expect(statSync(relay.dataDir).mode & 0o777).toBe(0o700);
    for (const f of ["relay.db", "kv.db"]) expect(statSync(relay.path("data", f)).mode & 0o777).toBe(0o600);
  });
});
