/** The relay's HTTP API, in process: auth, registration and rotation, invites, the shared KV, errors. */
import { beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CreateInviteResponse, KvGetResponse, KvListResponse, ListNodesResponse, RegisterNodeResponse, RelayKvKey, relayKvPath } from "../src/protocol/relay-api";
import { ensureAdminToken } from "../src/relay/auth";
import { sha256 } from "../src/sys/secrets";
import { waitFor } from "./helpers";
import { type Call, expectError, RelayHarness } from "./relay-harness";

const relay = RelayHarness.use("cw-relay-api-");
const { call } = relay;

async function register(name: string, opts: Call = { token: relay.admin }): Promise<string> {
  const r = await call("POST", "/api/v1/nodes", { ...opts, body: { name, ...(opts.body as object) } });
  expect(r.status).toBe(201);
  return RegisterNodeResponse.parse(r.json).token;
}

async function invite(body: object = {}): Promise<string> {
  const r = await call("POST", "/api/v1/invites", { token: relay.admin, body });
  expect(r.status).toBe(201);
  return CreateInviteResponse.parse(r.json).invite;
}

/** Every authenticated route, with a body it would accept. */
const ROUTES: [string, string, unknown?][] = [
  ["POST", "/api/v1/nodes", { name: "n1" }],
  ["GET", "/api/v1/nodes"],
  ["DELETE", "/api/v1/nodes/n1"],
  ["POST", "/api/v1/invites", {}],
  ["GET", "/api/v1/kv/default?prefix="],
  ["GET", "/api/v1/kv/default/k"],
  ["PUT", "/api/v1/kv/default/k", { value: "v" }],
  ["DELETE", "/api/v1/kv/default/k"],
];

describe("auth", () => {
  test("/healthz needs no token", async () => {
    const r = await call("GET", "/healthz");
    expect(r).toEqual({ status: 200, json: { ok: true, version: "9.9.9-test" } });
  });

  test("every API route needs a token; an unknown one or a non-Bearer scheme is 401", async () => {
    for (const [method, path, body] of ROUTES) {
      const none = expectError(await call(method, path, { body }), 401, "unauthorized");
      expect(none.hint).toContain("Bearer");
      expectError(await call(method, path, { body, token: "not-a-token" }), 401, "unauthorized");
      expectError(await call(method, path, { body, headers: { authorization: `Basic ${relay.admin}` } }), 401, "unauthorized");
    }
    // Nothing happened on the way.
    expect((await relay.store.listNodes())).toEqual([]);
  });

  test("the admin token is accepted with any case of 'Bearer'", async () => {
    const r = await call("GET", "/api/v1/nodes", { headers: { authorization: `bearer ${relay.admin}` } });
    expect(r.status).toBe(200);
  });

  test("a node token is 403 on admin routes, with a hint naming the admin token", async () => {
    const token = await register("dev-1");
    for (const [method, path, body] of [ROUTES[0]!, ROUTES[2]!, ROUTES[3]!]) {
      const e = expectError(await call(method, path, { token, body }), 403, "forbidden");
      expect(e.hint).toContain("admin token");
    }
    // The node was neither deleted nor joined by another.
    expect((await relay.store.listNodes()).map((n) => n.name)).toEqual(["dev-1"]);
  });

  test("ensureAdminToken makes a token once and stores only its hash; it survives a restart", async () => {
    expect(await ensureAdminToken(relay.store)).toEqual({});
    expect(await relay.store.adminTokenHash()).toEqual(sha256(relay.admin));
    relay.store.close();
    relay.open();
    expect((await call("GET", "/api/v1/nodes", { token: relay.admin })).status).toBe(200);
  });

  test("CW_AUTH_TOKEN is the admin token while set, and is never stored", async () => {
    relay.store.close();
    rmSync(relay.dir, { recursive: true, force: true });
    relay.open({ envToken: "env-admin-secret-123456" });
    expect(await ensureAdminToken(relay.store, "env-admin-secret-123456")).toEqual({});
    expect(await relay.store.adminTokenHash()).toBeNull();
    expect((await call("GET", "/api/v1/nodes", { token: "env-admin-secret-123456" })).status).toBe(200);
    expectError(await call("GET", "/api/v1/nodes", { token: "env-admin-secret-12345" }), 401, "unauthorized");
  });
});

describe("nodes", () => {
  test("a node's token uses the KV but cannot list nodes (403, saying what it may do); a user token lists, with connection and last seen", async () => {
    const token = await register("dev-1");
    await register("dev-2");
    relay.hub.connected.add("dev-2");
    expect((await call("PUT", "/api/v1/kv/default/seen", { token, body: { value: "v" } })).status).toBe(200);
    const refused = expectError(await call("GET", "/api/v1/nodes", { token }), 403, "forbidden");
    expect(refused.hint).toContain("only connects that node and uses the key-value store");
    const user = (await call("POST", "/api/v1/users", { token: relay.admin, body: { name: "alice" } })).json.token as string;
    const r = await call("GET", "/api/v1/nodes", { token: user });
    expect(r.status).toBe(200);
    const nodes = ListNodesResponse.parse(r.json).nodes;
    expect(nodes.map((n) => [n.name, n.connected])).toEqual([
      ["dev-1", false],
      ["dev-2", true],
    ]);
    expect(Date.parse(nodes[0]!.registered_at)).toBe(relay.clock);
    // dev-1 used the API, so it was seen; dev-2 never has been.
    expect(nodes[0]!.last_seen_at).not.toBeNull();
    expect(nodes[1]!.last_seen_at).toBeNull();
    expect((await call("PUT", "/api/v1/kv/default/k", { token, body: { value: "v" } })).status).toBe(200);
    expect(KvGetResponse.parse((await call("GET", "/api/v1/kv/default/k", { token })).json).entry.value).toBe("v");
  });

  test("re-registering with the admin token rotates: the old token stops working and its connection is dropped", async () => {
    const old = await register("dev-1");
    relay.hub.connected.add("dev-1");
    const r = await call("POST", "/api/v1/nodes", { token: relay.admin, body: { name: "dev-1" } });
    expect(r.status).toBe(201);
    const fresh = RegisterNodeResponse.parse(r.json);
    expect(fresh.rotated).toBe(true);
    expect(fresh.token).not.toBe(old);
    expectError(await call("GET", "/api/v1/nodes", { token: old }), 401, "unauthorized");
    expect((await call("GET", "/api/v1/kv/default", { token: fresh.token })).status).toBe(200);
    expect(relay.hub.disconnects).toEqual(["dev-1"]);
    // Closed as rotated (4003), not as removed.
    expect(relay.hub.rotations).toEqual(["dev-1"]);
    expect((await relay.store.listNodes()).length).toBe(1);
  });

  test("deleting a node drops its token and connection; deleting again is 404", async () => {
    const token = await register("dev-1");
    relay.hub.connected.add("dev-1");
    const r = await call("DELETE", "/api/v1/nodes/dev-1", { token: relay.admin });
    expect(r).toEqual({ status: 200, json: { deleted: true } });
    expect(relay.hub.disconnects).toEqual(["dev-1"]);
    expectError(await call("GET", "/api/v1/nodes", { token }), 401, "unauthorized");
    expectError(await call("DELETE", "/api/v1/nodes/dev-1", { token: relay.admin }), 404, "not_found");
  });

  test("names are validated: no colons, dots, @, leading dash or more than 63 characters", async () => {
    for (const name of ["a:b", "a.b", "user@host", "-x", "", "a".repeat(64), "a b", 7]) {
      const e = expectError(await call("POST", "/api/v1/nodes", { token: relay.admin, body: { name } }), 400, "bad_request");
      expect(e.issues?.[0]?.path).toBe("name");
    }
    expect((await relay.store.listNodes())).toEqual([]);
    await register("a".repeat(63));
    await register("Dev-2-x");
  });

  test("tokens, invites and the admin token are never stored in plaintext", async () => {
    const tokenA = await register("dev-1");
    const inv = await invite({ uses: 2 });
    const tokenB = await register("dev-2", { body: { invite: inv } });
    const bytes = Buffer.concat(readdirSync(relay.dir).map((f) => readFileSync(join(relay.dir, f))));
    // The hashes are there (so the search below looks at the right bytes)...
    expect(bytes.includes(sha256(tokenA))).toBe(true);
    expect(bytes.includes(sha256(relay.admin))).toBe(true);
    // ...and no secret is, in any file (the WAL included).
    for (const secret of [tokenA, tokenB, inv, relay.admin]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
    const db = new Database(join(relay.dir, "relay.db"), { readonly: true });
    try {
      const rows = db.query("SELECT name, token_hash FROM nodes ORDER BY name").all() as { name: string; token_hash: Uint8Array }[];
      expect(rows.map((r) => [r.name, Buffer.from(r.token_hash).equals(sha256(r.name === "dev-1" ? tokenA : tokenB))])).toEqual([
        ["dev-1", true],
        ["dev-2", true],
      ]);
    } finally {
      db.close();
    }
  });
});

describe("invites", () => {
  test("an invite registers one node without a token, and only once", async () => {
    const inv = await invite();
    const token = await register("dev-1", { body: { invite: inv } });
    expect((await call("GET", "/api/v1/kv/default", { token })).status).toBe(200);
    const e = expectError(await call("POST", "/api/v1/nodes", { body: { name: "dev-2", invite: inv } }), 401, "invalid_invite");
    expect(e.hint).toContain("new invite");
    expect((await relay.store.listNodes()).map((n) => n.name)).toEqual(["dev-1"]);
  });

  test("an invite with uses=2 registers two nodes, then no more", async () => {
    const inv = await invite({ uses: 2 });
    await register("dev-1", { body: { invite: inv } });
    await register("dev-2", { body: { invite: inv } });
    expectError(await call("POST", "/api/v1/nodes", { body: { name: "dev-3", invite: inv } }), 401, "invalid_invite");
  });

  test("an invite expires after its ttl", async () => {
    const r = await call("POST", "/api/v1/invites", { token: relay.admin, body: { ttl_s: 60 } });
    const { invite: inv, expires_at } = CreateInviteResponse.parse(r.json);
    expect(Date.parse(expires_at)).toBe(relay.clock + 60_000);
    relay.advance(60_000);
    expectError(await call("POST", "/api/v1/nodes", { body: { name: "dev-1", invite: inv } }), 401, "invalid_invite");
    expect((await relay.store.listNodes())).toEqual([]);
  });

  test("an unexpired invite still works just before its ttl; defaults are one use and 24 h", async () => {
    const r = await call("POST", "/api/v1/invites", { token: relay.admin });
    expect(r.status).toBe(201);
    expect(Date.parse(CreateInviteResponse.parse(r.json).expires_at)).toBe(relay.clock + 86_400_000);
    relay.advance(86_399_000);
    await register("dev-1", { body: { invite: r.json.invite } });
  });

  test("an invite cannot take a registered name (409) and is not used up trying", async () => {
    await register("dev-1");
    const inv = await invite();
    const e = expectError(await call("POST", "/api/v1/nodes", { body: { name: "dev-1", invite: inv } }), 409, "name_taken");
    expect(e.hint).toContain("another name");
    await register("dev-2", { body: { invite: inv } });
  });

  test("without a valid invite a registered name is not revealed: 401 invalid_invite, as for a free name", async () => {
    await register("dev-1");
    const taken = expectError(await call("POST", "/api/v1/nodes", { body: { name: "dev-1", invite: "not-an-invite" } }), 401, "invalid_invite");
    const free = expectError(await call("POST", "/api/v1/nodes", { body: { name: "dev-9", invite: "not-an-invite" } }), 401, "invalid_invite");
    expect(taken.message).toBe(free.message);
  });

  test("registering with neither token nor invite is 401; an invite with a bad token is 401 and unused", async () => {
    expectError(await call("POST", "/api/v1/nodes", { body: { name: "dev-1" } }), 401, "unauthorized");
    const inv = await invite();
    expectError(await call("POST", "/api/v1/nodes", { token: "wrong", body: { name: "dev-1", invite: inv } }), 401, "unauthorized");
    await register("dev-1", { body: { invite: inv } });
  });

  test("invite parameters are validated", async () => {
    for (const body of [{ uses: 0 }, { uses: 101 }, { uses: 1.5 }, { ttl_s: 0 }, { ttl_s: 30 * 86_400 + 1 }, { ttl_s: "60" }]) {
      expectError(await call("POST", "/api/v1/invites", { token: relay.admin, body }), 400, "bad_request");
    }
    expect((await call("POST", "/api/v1/invites", { token: relay.admin, body: { uses: 100, ttl_s: 30 * 86_400 } })).status).toBe(201);
  });
});

describe("kv", () => {
  let token: string;
  beforeEach(async () => {
    token = await register("dev-1");
  });
  const put = (ns: string, key: string, body: unknown) => call("PUT", relayKvPath(ns, key), { token, body });
  const get = (ns: string, key: string) => call("GET", relayKvPath(ns, key), { token });
  const list = async (ns: string, prefix?: string) => {
    const r = await call("GET", `${relayKvPath(ns)}?values=1${prefix === undefined ? "" : `&prefix=${encodeURIComponent(prefix)}`}`, { token });
    expect(r.status).toBe(200);
    return KvListResponse.parse(r.json).entries.map((e) => [e.key, e.value]);
  };

  test("set, get, list with prefix, delete; namespaces are separate; admin and nodes share it", async () => {
    expect(await put("team", "task/1", { value: "a" })).toEqual({ status: 200, json: { ok: true } });
    await put("team", "task/2", { value: "b" });
    await put("team", "other", { value: "c" });
    await put("elsewhere", "task/1", { value: "z" });
    expect(await get("team", "task/1")).toEqual({ status: 200, json: { entry: { key: "task/1", value: "a", expires_at: null } } });
    expect(await list("team")).toEqual([
      ["other", "c"],
      ["task/1", "a"],
      ["task/2", "b"],
    ]);
    expect(await list("team", "task/")).toEqual([
      ["task/1", "a"],
      ["task/2", "b"],
    ]);
    expect(await list("team", "%")).toEqual([]);
    // Overwrite, as the admin: the same store.
    expect((await call("PUT", relayKvPath("team", "task/1"), { token: relay.admin, body: { value: "a2" } })).status).toBe(200);
    expect(KvGetResponse.parse((await get("team", "task/1")).json).entry.value).toBe("a2");
    expect(await call("DELETE", relayKvPath("team", "task/1"), { token })).toEqual({ status: 200, json: { deleted: true } });
    expect(await call("DELETE", relayKvPath("team", "task/1"), { token })).toEqual({ status: 200, json: { deleted: false } });
    expectError(await get("team", "task/1"), 404, "not_found");
    expect(await list("elsewhere")).toEqual([["task/1", "z"]]);
  });

  test("keys with slashes, spaces, unicode, %, ? and # round-trip; a raw / names the same key as %2F", async () => {
    const keys = ["a/b/c", "with space", "ünïcødé/日本語 🚀", "100%", "q?x=1&y", "frag#ment", "/leading", "trailing/", "a//b", "+plus"];
    for (const [i, key] of keys.entries()) expect((await put("ns", key, { value: `v${i}` })).status).toBe(200);
    for (const [i, key] of keys.entries()) {
      const r = await get("ns", key);
      expect(r.status).toBe(200);
      expect(KvGetResponse.parse(r.json).entry).toEqual({ key, value: `v${i}`, expires_at: null });
    }
    expect((await list("ns")).map(([k]) => k).sort()).toEqual([...keys].sort());
    const raw = await call("GET", "/api/v1/kv/ns/a/b/c", { token });
    expect(KvGetResponse.parse(raw.json).entry.value).toBe("v0");
    expect(await list("ns", "ünïcødé/")).toEqual([["ünïcødé/日本語 🚀", "v2"]]);
  });

  test("a TTL makes a key expire", async () => {
    expect((await put("ns", "short", { value: "v", ttl_s: 0.3 })).status).toBe(200);
    await put("ns", "long", { value: "v", ttl_s: 3600 });
    const e = KvGetResponse.parse((await get("ns", "short")).json).entry;
    expect(e.expires_at).not.toBeNull();
    await waitFor(async () => (await get("ns", "short")).status === 404, "the key to expire", 10_000);
    expect(await list("ns")).toEqual([["long", "v"]]);
    expect((await call("DELETE", relayKvPath("ns", "short"), { token })).json).toEqual({ deleted: false });
  });

  test("set if absent (if_absent or If-None-Match: *) is 412 while the key lives; delete if_value", async () => {
    expect((await put("ns", "lock", { value: "a", if_absent: true, ttl_s: 0.3 })).status).toBe(200);
    expectError(await put("ns", "lock", { value: "b", if_absent: true }), 412, "precondition_failed");
    expectError(await call("PUT", relayKvPath("ns", "lock"), { token, body: { value: "b" }, headers: { "if-none-match": "*" } }), 412, "precondition_failed");
    expect(KvGetResponse.parse((await get("ns", "lock")).json).entry.value).toBe("a");
    // Expired counts as absent.
    await waitFor(async () => (await put("ns", "lock", { value: "b", if_absent: true })).status === 200, "the expired key to be taken", 10_000);
    const del = (body?: unknown) => call("DELETE", relayKvPath("ns", "lock"), { token, ...(body ? { body } : {}) });
    expect((await del({ if_value: "a" })).json).toEqual({ deleted: false });
    expect(KvGetResponse.parse((await get("ns", "lock")).json).entry.value).toBe("b");
    expect((await del({ if_value: "b" })).json).toEqual({ deleted: true });
    expectError(await get("ns", "lock"), 404, "not_found");
    // ttl_s 0 is refused, not "forever".
    expectError(await put("ns", "k", { value: "v", ttl_s: 0 }), 400, "bad_request");
  });

  test("a listing is paged: keys only unless values=1, limit and cursor, values cap a page's size", async () => {
    for (let i = 0; i < 5; i++) await put("pg", `k${i}`, { value: "v".repeat(1000) });
    const page = async (q: string) => {
      const r = await call("GET", `${relayKvPath("pg")}?${q}`, { token });
      expect(r.status).toBe(200);
      return KvListResponse.parse(r.json);
    };
    const first = await page("limit=2");
    expect(first).toEqual({ entries: [{ key: "k0", expires_at: null }, { key: "k1", expires_at: null }], next_cursor: "k1" });
    const second = await page(`limit=2&cursor=${first.next_cursor}&values=1`);
    expect(second.entries.map((e) => [e.key, e.value?.length])).toEqual([["k2", 1000], ["k3", 1000]]);
    expect(await page("limit=2&cursor=k3")).toEqual({ entries: [{ key: "k4", expires_at: null }], next_cursor: null });
    expectError(await call("GET", `${relayKvPath("pg")}?limit=5000`, { token }), 400, "bad_request");
  });

  test("past a namespace's quota of keys or bytes a set is 429 over_quota; other namespaces are not affected", async () => {
    relay.store.close();
    relay.open({ kvQuota: { keys: 3, bytes: 10 } });
    expect((await put("q", "a", { value: "1234" })).status).toBe(200);
    expect((await put("q", "b", { value: "1234" })).status).toBe(200);
    expect(expectError(await put("q", "c", { value: "123" }), 429, "over_quota").message).toContain("10 bytes");
    // Replacing a value counts its new size, not both.
    expect((await put("q", "b", { value: "123456" })).status).toBe(200);
    expect((await put("q", "c", { value: "" })).status).toBe(200);
    expect(expectError(await put("q", "d", { value: "" }), 429, "over_quota").message).toContain("3 keys");
    expect((await put("other", "d", { value: "" })).status).toBe(200);
    await call("DELETE", relayKvPath("q", "a"), { token });
    expect((await put("q", "d", { value: "" })).status).toBe(200);
    // An expired key makes room, though nothing swept it yet.
    await call("DELETE", relayKvPath("q", "d"), { token });
    expect((await put("q", "short", { value: "", ttl_s: 0.2 })).status).toBe(200);
    expectError(await put("q", "e", { value: "" }), 429, "over_quota");
    await waitFor(async () => (await put("q", "e", { value: "" })).status === 200, "the expired key to make room", 5000, 50);
    // The usage survives a reopen (kept in the database, by triggers).
    relay.store.close();
    relay.open({ kvQuota: { keys: 3, bytes: 10 } });
    expectError(await put("q", "f", { value: "" }), 429, "over_quota");
  });

  test("bad namespaces, keys and bodies are 400 with the problem named", async () => {
    expect(expectError(await put("bad ns", "k", { value: "v" }), 400, "bad_request").message).toContain("namespace");
    expectError(await call("GET", relayKvPath("a/b"), { token }), 400, "bad_request"); // a slash in a namespace
    expectError(await put("ns", "k".repeat(513), { value: "v" }), 400, "bad_request");
    const noValue = expectError(await put("ns", "k", {}), 400, "bad_request");
    expect(noValue.issues?.[0]?.path).toBe("value");
    expectError(await put("ns", "k", { value: 5 }), 400, "bad_request");
    expectError(await put("ns", "k", { value: "v", ttl_s: -1 }), 400, "bad_request");
    expectError(await put("ns", "k", { value: "v", ttl_s: 1e300 }), 400, "bad_request");
    const json = expectError(await put("ns", "k", "{not json"), 400, "bad_request");
    expect(json.message).toContain("JSON");
    expectError(await put("ns", "k", "[1,2]"), 400, "bad_request");
    expect(await list("ns")).toEqual([]);
    // "." and ".." cannot travel in a URL path; clients check with the schema before sending.
    expect(RelayKvKey.safeParse("..").success).toBe(false);
    expect(RelayKvKey.safeParse("a/../b").success).toBe(true);
  });

  test("a value over 1 MiB of UTF-8 is 413, as JSON or raw, with or without a Content-Length", async () => {
    const big = JSON.stringify({ value: "x".repeat(1024 * 1024 + 1) });
    const e = expectError(await put("ns", "k", big), 413, "too_large");
    expect(e.message).toContain("1048576");
    // Counted in bytes: 350,000 three-byte characters are 1,050,000 bytes.
    expectError(await put("ns", "k", { value: "€".repeat(350_000) }), 413, "too_large");
    const raw = await relay.app.request(new Request(`http://relay${relayKvPath("ns", "k")}`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" }, body: "€".repeat(350_000) }));
    expectError({ status: raw.status, json: await raw.json() }, 413, "too_large");
    // Other routes take only small bodies.
    expectError(await call("POST", "/api/v1/invites", { token: relay.admin, body: { uses: 1, pad: "x".repeat(100_000) } }), 413, "too_large");
    // Streamed (chunked): the limit is counted while reading.
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent++ < 40) ctl.enqueue(chunk);
        else ctl.close();
      },
    });
    const res = await relay.app.request(new Request(`http://relay${relayKvPath("ns", "k")}`, { method: "PUT", headers: { authorization: `Bearer ${token}` }, body: stream }));
    expectError({ status: res.status, json: await res.json() }, 413, "too_large");
    expectError(await get("ns", "k"), 404, "not_found");
    // Just under the limit is fine, streamed or not.
    expect((await put("ns", "k", { value: "x".repeat(1024 * 1024 - 100) })).status).toBe(200);
    const parts = ['{"value":"', "y".repeat(1024 * 1024 - 100), '"}'].map((p) => new TextEncoder().encode(p));
    const small = new ReadableStream<Uint8Array>({
      pull(ctl) {
        const p = parts.shift();
        if (p) ctl.enqueue(p);
        else ctl.close();
      },
    });
    const ok = await relay.app.request(new Request(`http://relay${relayKvPath("ns", "k2")}`, { method: "PUT", headers: { authorization: `Bearer ${token}` }, body: small }));
    expect(ok.status).toBe(200);
    expect(KvGetResponse.parse((await get("ns", "k2")).json).entry.value.length).toBe(1024 * 1024 - 100);
  });
});

describe("routing", () => {
  test("unknown routes and methods are 404 JSON", async () => {
    for (const [method, path] of [
      ["GET", "/"],
      ["GET", "/api/v2/nodes"],
      ["GET", "/api/v1/nope"],
      ["PATCH", "/api/v1/nodes"],
      ["POST", "/healthz"],
    ] as const) {
      expectError(await call(method, path, { token: relay.admin }), 404, "not_found");
    }
  });
});
