/** The relay's device authorization flow, in process: authorize, poll, approve (API and HTML page), expiry, limits. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DeviceApproveResponse,
  DeviceAuthorizeResponse,
  DevicePollAuthorized,
  DevicePollPending,
  ListNodesResponse,
  normalizeUserCode,
  RegisterNodeResponse,
} from "../src/protocol/relay-api";
import { sha256 } from "../src/sys/secrets";
import { expectError, RelayHarness } from "./relay-harness";

const relay = RelayHarness.use("cw-relay-device-");
const { call } = relay;

async function authorize(name: string): Promise<DeviceAuthorizeResponse> {
  const r = await call("POST", "/api/v1/device/authorize", { body: { name } });
  expect(r.status).toBe(200);
  return DeviceAuthorizeResponse.parse(r.json);
}

const poll = (deviceCode: string) => call("POST", "/api/v1/device/poll", { body: { device_code: deviceCode } });
/** `token` null: no Authorization header. */
const approve = (userCode: string, yes = true, token: string | null = relay.admin) => call("POST", "/api/v1/device/approve", { token: token ?? undefined, body: { user_code: userCode, approve: yes } });

async function expectPending(deviceCode: string): Promise<void> {
  const r = await poll(deviceCode);
  expect(r.status).toBe(202);
  expect(DevicePollPending.parse(r.json)).toEqual({ status: "pending", interval: 2 });
}

async function html(method: "GET" | "POST", path: string, form?: Record<string, string>): Promise<{ status: number; text: string; headers: Headers }> {
  const init: RequestInit = { method };
  if (form) {
    init.headers = { "content-type": "application/x-www-form-urlencoded" };
    init.body = new URLSearchParams(form).toString();
  }
  const res = await relay.app.request(path, init);
  expect(res.headers.get("content-type")).toContain("text/html");
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const nodeNames = async () => (await relay.store.listNodes()).map((n) => n.name);
const CODE_RE = /^[BCDFGHJKMNPQRSTVWXZ2-9]{4}-[BCDFGHJKMNPQRSTVWXZ2-9]{4}$/;

describe("device flow over the API", () => {
  test("authorize, pending, approve, authorized: the token works, and a second poll is 404", async () => {
    const d = await authorize("dev-1");
    expect(d.user_code).toMatch(CODE_RE);
    expect(d.verification_uri).toBe("http://localhost/device");
    expect(d.verification_uri_complete).toBe(`http://localhost/device?code=${d.user_code}`);
    expect([d.expires_in, d.interval]).toEqual([600, 2]);
    expect(d.device_code.length).toBeGreaterThanOrEqual(43);

    await expectPending(d.device_code);
    await expectPending(d.device_code);
    expect(await nodeNames()).toEqual([]);

    const a = await approve(d.user_code);
    expect(a.status).toBe(200);
    expect(DeviceApproveResponse.parse(a.json)).toEqual({ name: "dev-1", approved: true, replaces: false });
    // Registered only when the node collects its token.
    expect(await nodeNames()).toEqual([]);

    const r = await poll(d.device_code);
    expect(r.status).toBe(200);
    const got = DevicePollAuthorized.parse(r.json);
    expect(got).toMatchObject({ status: "authorized", name: "dev-1", rotated: false });
    // The node's token connects the node; the user token, for that machine's CLI, lists nodes.
    expect((await call("GET", "/api/v1/kv/default", { token: got.token })).status).toBe(200);
    const list = await call("GET", "/api/v1/nodes", { token: got.user_token! });
    expect(list.status).toBe(200);
    expect(ListNodesResponse.parse(list.json).nodes.map((n) => n.name)).toEqual(["dev-1"]);
    expect(relay.hub.disconnects).toEqual([]);

    expectError(await poll(d.device_code), 404, "not_found");
    // The decision is spent too.
    expectError(await approve(d.user_code), 404, "not_found");
  });

  test("the user code matches in any case, with or without the dash", async () => {
    const a = await authorize("dev-1");
    expect((await approve(a.user_code.toLowerCase().replace("-", ""))).status).toBe(200);
    expect((await poll(a.device_code)).status).toBe(200);
    const b = await authorize("dev-2");
    const mixed = `${b.user_code.slice(0, 2).toLowerCase()}${b.user_code.slice(2)}`;
    expect((await approve(` ${mixed} `)).status).toBe(200);
    expect((await poll(b.device_code)).status).toBe(200);
    expect(normalizeUserCode("bcdf-ghjk")).toBe("BCDFGHJK");
    for (const bad of ["BCDF-GHJ", "BCDF-GHJKM", "BCD0-GHJK", "OOOO-1111", "ILIL-ILIL"]) expect(normalizeUserCode(bad)).toBeNull();
  });

  test("user codes are unambiguous and distinct", async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const d = await authorize(`n${i}`);
      expect(d.user_code).toMatch(CODE_RE);
      expect(d.user_code).not.toMatch(/[01OIL]/);
      codes.add(d.user_code);
    }
    expect(codes.size).toBe(40);
  });

  test("denied: the poll is 403 denied, then 404; nothing is registered", async () => {
    const d = await authorize("dev-1");
    const a = await approve(d.user_code, false);
    expect(DeviceApproveResponse.parse(a.json)).toEqual({ name: "dev-1", approved: false, replaces: false });
    const e = expectError(await poll(d.device_code), 403, "denied");
    expect(e.message).toContain("dev-1");
    expectError(await poll(d.device_code), 404, "not_found");
    expect(await nodeNames()).toEqual([]);
  });

  test("a request expires after 600 s: the poll is 410 expired and it can no longer be approved", async () => {
    const d = await authorize("dev-1");
    relay.advance(599_000);
    await expectPending(d.device_code);
    relay.advance(1_000);
    expectError(await approve(d.user_code), 404, "not_found");
    expect((await html("POST", "/device", { user_code: d.user_code, token: relay.admin, action: "approve" })).status).toBe(404);
    expectError(await poll(d.device_code), 410, "expired");
    expectError(await poll(d.device_code), 404, "not_found");
    expect(await nodeNames()).toEqual([]);
  });

  test("approved but collected after expiry is 410, and no token is made", async () => {
    const d = await authorize("dev-1");
    await approve(d.user_code);
    relay.advance(600_000);
    expectError(await poll(d.device_code), 410, "expired");
    expect(await nodeNames()).toEqual([]);
  });

  test("an existing name is rotated at the poll: the old token stops working and its connection is dropped", async () => {
    const r = await call("POST", "/api/v1/nodes", { token: relay.admin, body: { name: "dev-1" } });
    const old = RegisterNodeResponse.parse(r.json).token;
    relay.hub.connected.add("dev-1");
    const d = await authorize("dev-1");
    expect(DeviceApproveResponse.parse((await approve(d.user_code)).json).replaces).toBe(true);
    // Until the node collects its token, the old one still works.
    expect((await call("GET", "/api/v1/kv/default", { token: old })).status).toBe(200);
    const got = DevicePollAuthorized.parse((await poll(d.device_code)).json);
    expect(got.rotated).toBe(true);
    expectError(await call("GET", "/api/v1/nodes", { token: old }), 401, "unauthorized");
    expect((await call("GET", "/api/v1/kv/default", { token: got.token })).status).toBe(200);
    expect(relay.hub.disconnects).toEqual(["dev-1"]);
  });

  test("approving needs the admin token: none is 401, a node's is 403, and nothing is approved", async () => {
    const nodeToken = RegisterNodeResponse.parse((await call("POST", "/api/v1/nodes", { token: relay.admin, body: { name: "other" } })).json).token;
    const d = await authorize("dev-1");
    expectError(await approve(d.user_code, true, null), 401, "unauthorized");
    expect(expectError(await approve(d.user_code, true, nodeToken), 403, "forbidden").hint).toContain("admin token");
    expectError(await approve(d.user_code, true, "not-a-token"), 401, "unauthorized");
    await expectPending(d.device_code);
  });

  test("a base URL from the deps makes the links", async () => {
    relay.store.close();
    relay.open({ baseUrl: "https://relay.example.com/cw/" });
    const d = await authorize("dev-1");
    expect(d.verification_uri).toBe("https://relay.example.com/cw/device");
    expect(d.verification_uri_complete).toBe(`https://relay.example.com/cw/device?code=${d.user_code}`);
  });

  test("expiry and interval can be set through the deps", async () => {
    relay.store.close();
    relay.open({ device: { expiresInS: 30, intervalS: 5 } });
    const d = await authorize("dev-1");
    expect([d.expires_in, d.interval]).toEqual([30, 5]);
    expect((await poll(d.device_code)).json).toEqual({ status: "pending", interval: 5 });
    relay.advance(30_000);
    expectError(await poll(d.device_code), 410, "expired");
  });

  test("one address may have 5 requests waiting (429 too_many); others still can; expired ones make room", async () => {
    const from = (ip: string, name: string, headers?: Record<string, string>) => call("POST", "/api/v1/device/authorize", { body: { name }, ip, ...(headers ? { headers } : {}) });
    for (let i = 0; i < 5; i++) expect((await from("203.0.113.7", `n${i}`)).status).toBe(200);
    const e = expectError(await from("203.0.113.7", "one-more"), 429, "too_many");
    expect(e.message).toContain("from your address");
    expect(e.hint).toContain("invite");
    // Someone else is not blocked by it.
    expect((await from("203.0.113.8", "legit")).status).toBe(200);
    // An IPv6 /64 counts as one address.
    for (let i = 0; i < 5; i++) expect((await from(`2001:db8:1:2::${i + 1}`, `v6-${i}`)).status).toBe(200);
    expectError(await from("2001:db8:1:2:ffff::9", "v6-more"), 429, "too_many");
    expect((await from("2001:db8:1:3::1", "v6-next-net")).status).toBe(200);
    // Behind a proxy on the same machine, X-Forwarded-For names the caller; from elsewhere it is ignored.
    for (let i = 0; i < 5; i++) expect((await from("127.0.0.1", `px-${i}`, { "x-forwarded-for": `198.51.100.${i}` })).status).toBe(200);
    expectError(await from("203.0.113.7", "spoofed", { "x-forwarded-for": "198.51.100.200" }), 429, "too_many");
    relay.advance(600_000);
    const d = await authorize("after-expiry");
    expect((await from("203.0.113.7", "again")).status).toBe(200);
    await expectPending(d.device_code);
  });

  test("at most DEVICE_MAX_PENDING requests wait in all; expired ones make room and are swept", async () => {
    relay.store.close();
    relay.open({ device: { maxPending: 10 } });
    for (let i = 0; i < 10; i++) await authorize(`n${i}`);
    const e = expectError(await call("POST", "/api/v1/device/authorize", { body: { name: "one-more" } }), 429, "too_many");
    expect(e.message).toContain("already has 10");
    relay.advance(600_000);
    const d = await authorize("one-more");
    await expectPending(d.device_code);
    // Long-expired requests are swept from the table.
    relay.advance(3_600_000);
    await authorize("later");
    expect(await relay.store.pendingDeviceRequest(normalizeUserCode(d.user_code)!)).toBeNull();
    expectError(await poll(d.device_code), 404, "not_found");
  });

  test("bodies are validated; unknown device codes are 404", async () => {
    for (const name of ["a:b", "a.b", "-x", "", "a".repeat(64), "<script>", 7]) {
      expect(expectError(await call("POST", "/api/v1/device/authorize", { body: { name } }), 400, "bad_request").issues?.[0]?.path).toBe("name");
    }
    expectError(await call("POST", "/api/v1/device/authorize"), 400, "bad_request");
    expectError(await call("POST", "/api/v1/device/poll", { body: {} }), 400, "bad_request");
    expectError(await call("POST", "/api/v1/device/poll", { body: { device_code: "x".repeat(257) } }), 400, "bad_request");
    expectError(await poll("no-such-code"), 404, "not_found");
    expectError(await call("POST", "/api/v1/device/approve", { token: relay.admin, body: { user_code: "BCDF-GHJK" } }), 400, "bad_request");
    expectError(await call("POST", "/api/v1/device/approve", { token: relay.admin, body: { user_code: "BCDF-GHJK", approve: "yes" } }), 400, "bad_request");
    expectError(await approve("BCDF-GHJK"), 404, "not_found");
    expectError(await approve("not a code"), 404, "not_found");
  });

  test("/api rules still hold: a poll with an unknown bearer token is 401, with none it is fine", async () => {
    const d = await authorize("dev-1");
    expectError(await call("POST", "/api/v1/device/poll", { token: "stale", body: { device_code: d.device_code } }), 401, "unauthorized");
    await expectPending(d.device_code);
  });

  test("neither device codes nor tokens are stored in plaintext", async () => {
    const d = await authorize("dev-1");
    await approve(d.user_code);
    const got = DevicePollAuthorized.parse((await poll(d.device_code)).json);
    const d2 = await authorize("dev-2");
    const bytes = Buffer.concat(readdirSync(relay.dir).map((f) => readFileSync(join(relay.dir, f))));
    expect(bytes.includes(sha256(d2.device_code))).toBe(true);
    for (const secret of [d.device_code, d2.device_code, got.token]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
  });
});

describe("the /device page", () => {
  test("GET shows the form, prefilled from ?code=, naming the node; no bearer header needed", async () => {
    const d = await authorize("dev-1");
    const blank = await html("GET", "/device");
    expect(blank.status).toBe(200);
    expect(blank.text).toContain('type="password"');
    expect(blank.text).toContain('value="approve"');
    expect(blank.text).toContain('value="deny"');
    expect(blank.text).not.toContain("<script");
    expect(blank.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(blank.headers.get("cache-control")).toBe("no-store");

    const filled = await html("GET", `/device?code=${d.user_code.toLowerCase()}`);
    expect(filled.status).toBe(200);
    expect(filled.text).toContain(`value="${d.user_code}"`);
    expect(filled.text).toContain("<strong>dev-1</strong>");
    expect(filled.text).toContain("10 minutes");

    const unknown = await html("GET", "/device?code=BCDF-GHJK");
    expect(unknown.text).toContain("No request is waiting");
    expect(unknown.text).not.toContain("dev-1");
  });

  test("Approve with the admin token: the page names the node, and the node's poll gets its token", async () => {
    const d = await authorize("dev-1");
    const r = await html("POST", "/device", { user_code: d.user_code.replace("-", "").toLowerCase(), token: ` ${relay.admin}\n`, action: "approve" });
    expect(r.status).toBe(200);
    expect(r.text).toContain("<h1>Approved</h1>");
    expect(r.text).toContain("<strong>dev-1</strong>");
    expect(r.text).not.toContain("already registered");
    const got = DevicePollAuthorized.parse((await poll(d.device_code)).json);
    expect((await call("GET", "/api/v1/kv/default", { token: got.token })).status).toBe(200);
    // Deciding again finds nothing.
    expect((await html("POST", "/device", { user_code: d.user_code, token: relay.admin, action: "deny" })).status).toBe(404);
  });

  test("Approve says so when it replaces an existing node's token", async () => {
    await call("POST", "/api/v1/nodes", { token: relay.admin, body: { name: "dev-1" } });
    const d = await authorize("dev-1");
    expect((await html("GET", `/device?code=${d.user_code}`)).text).toContain("already registered");
    const r = await html("POST", "/device", { user_code: d.user_code, token: relay.admin, action: "approve" });
    expect(r.text).toContain("already registered");
    expect(DevicePollAuthorized.parse((await poll(d.device_code)).json).rotated).toBe(true);
  });

  test("Deny: the page says so and the poll is 403", async () => {
    const d = await authorize("dev-1");
    const r = await html("POST", "/device", { user_code: d.user_code, token: relay.admin, action: "deny" });
    expect(r.status).toBe(200);
    expect(r.text).toContain("<h1>Denied</h1>");
    expect(r.text).toContain("<strong>dev-1</strong>");
    expectError(await poll(d.device_code), 403, "denied");
    expect(await nodeNames()).toEqual([]);
  });

  test("a wrong token, a node's token or none is 401 and nothing is decided", async () => {
    const nodeToken = RegisterNodeResponse.parse((await call("POST", "/api/v1/nodes", { token: relay.admin, body: { name: "other" } })).json).token;
    const d = await authorize("dev-1");
    for (const token of ["wrong", `${relay.admin}x`, nodeToken, "", `${relay.admin} ${relay.admin}`]) {
      for (const action of ["approve", "deny"]) {
        const r = await html("POST", "/device", { user_code: d.user_code, token, action });
        expect(r.status).toBe(401);
        expect(r.text).toContain("nothing was approved");
        expect(r.text).toContain(`value="${d.user_code}"`);
      }
    }
    await expectPending(d.device_code);
    expect(await nodeNames()).toEqual(["other"]);
  });

  test("an unknown code is a 404 page; a bad form is 400; a huge one is 413", async () => {
    expect((await html("POST", "/device", { user_code: "BCDF-GHJK", token: relay.admin, action: "approve" })).status).toBe(404);
    expect((await html("POST", "/device", { user_code: "BCDF-GHJK", token: relay.admin, action: "maybe" })).status).toBe(400);
    expect((await html("POST", "/device", { user_code: "BCDF-GHJK", token: relay.admin })).status).toBe(400);
    expect((await html("POST", "/device")).status).toBe(400);
    expect((await html("POST", "/device", { user_code: "x", token: "y".repeat(20_000), action: "approve" })).status).toBe(413);
  });

  test("what the page echoes is escaped", async () => {
    const hostile = `"><script>alert(1)</script><img src=x onerror='x'>&amp;`;
    const escaped = "&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=&#39;x&#39;&#62;&#38;amp;";
    const g = await html("GET", `/device?code=${encodeURIComponent(hostile)}`);
    const p = await html("POST", "/device", { user_code: hostile, token: relay.admin, action: "approve" });
    expect(p.status).toBe(404);
    const w = await html("POST", "/device", { user_code: hostile, token: "wrong", action: "approve" });
    expect(w.status).toBe(401);
    for (const r of [g, p, w]) {
      expect(r.text).toContain(escaped);
      expect(r.text).not.toContain("<script");
      expect(r.text).not.toContain("<img");
    }
  });

  test("the page is outside /api: a stale bearer header does not block it, and /api routes keep their rules", async () => {
    const d = await authorize("dev-1");
    const res = await relay.app.request("/device", {
      method: "POST",
      headers: { authorization: "Bearer stale", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ user_code: d.user_code, token: relay.admin, action: "approve" }).toString(),
    });
    expect(res.status).toBe(200);
    expectError(await call("GET", "/api/v1/nodes"), 401, "unauthorized");
    expectError(await call("GET", "/device/other"), 404, "not_found");
  });
});
