/**
 * The relay's handle and mail routes in process (Hono's app.request, the relay harness): who may
 * claim what, who may post as whom, what a full mailbox and a stranger's ack do. Every refusal
 * is JSON with a code, a message and a hint.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Identity, loadOrCreateIdentity, makeCard, seal, signClaim } from "../src/identity";
import { MAILBOX_MAX } from "../src/protocol/trust-api";
import { mountTrust } from "../src/relay/trust/mount";
import { MailLimits } from "../src/relay/trust/mail-limits";
import { backoff } from "../src/relay/trust/outbound";
import type { RelayTrust } from "../src/relay/store/trust";
import { RelayHarness } from "./relay-harness";

const h = RelayHarness.use("cw-peer-relay-");
let trust: RelayTrust;
let keys: Record<string, Identity>;
let keyDir: string;
const tokens: Record<string, string> = {};
const HOST = "localhost";
/** The mail limits' clock: still unless a test moves it, so buckets refill only when told. */
let clock = Date.now();

beforeEach(async () => {
  clock = Date.now();
  trust = mountTrust(h.app, { dataDir: h.dir, mailLimits: new MailLimits({ CW_MAIL_RATE_SENDER: "10/4", CW_MAIL_RATE_RECIPIENT: "10/6" }, () => clock) });
  keyDir = mkdtempSync(join(tmpdir(), "cw-peer-keys-"));
  keys = { alice: loadOrCreateIdentity(join(keyDir, "a.pem")), bob: loadOrCreateIdentity(join(keyDir, "b.pem")), eve: loadOrCreateIdentity(join(keyDir, "e.pem")) };
  for (const n of ["alice-box", "bob-box", "eve-box"]) tokens[n] = (await h.call("POST", "/api/v1/nodes", { token: h.admin, body: { name: n } })).json.token;
});

afterEach(async () => {
  await trust.close();
  rmSync(keyDir, { recursive: true, force: true });
});

function card(who: Identity, handle: string) {
  return makeCard(who, { handle, mailbox: `http://${HOST}/api/v1/mail`, url: `http://${HOST}` });
}

async function claim(who: Identity, name: string, node: string, handle = `${name}@${HOST}`) {
  return h.call("POST", "/api/v1/handles", { token: tokens[node], body: { card: card(who, handle), claim: signClaim(who, handle, node) } });
}

function envelope(from: Identity, fromName: string, to: Identity, toName: string, id = `env_${Math.random().toString(36).slice(2, 14)}`) {
  return seal(from, `${fromName}@${HOST}`, { handle: `${toName}@${HOST}`, fp: to.fingerprint, x25519: to.x25519 }, { kind: "msg", to_session: "coder", from: null, body: "hi" }, { id, seq: 1 });
}

function refused(r: { status: number; json: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.json.error).toBe(code);
  expect(r.json.hint.length).toBeGreaterThan(10);
}

describe("claims", () => {
  test("a handle of this relay's host, with a fresh claim by the card's key, from a node token", async () => {
    expect((await claim(keys.alice!, "alice", "alice-box")).status).toBe(201);
    refused(await claim(keys.eve!, "alice", "eve-box"), 409, "handle_taken");
    refused(await claim(keys.bob!, "bob", "bob-box", "bob@elsewhere.example"), 400, "wrong_host");
    refused(await h.call("POST", "/api/v1/handles", { token: h.admin, body: { card: card(keys.bob!, `bob@${HOST}`), claim: signClaim(keys.bob!, `bob@${HOST}`, "bob-box") } }), 401, "unauthorized");
    const stale = signClaim(keys.bob!, `bob@${HOST}`, "bob-box", Date.now() - 3600_000);
    refused(await h.call("POST", "/api/v1/handles", { token: tokens["bob-box"], body: { card: card(keys.bob!, `bob@${HOST}`), claim: stale } }), 403, "bad_claim");
    const forged = { ...card(keys.bob!, `bob@${HOST}`), description: "changed after signing" };
    refused(await h.call("POST", "/api/v1/handles", { token: tokens["bob-box"], body: { card: forged, claim: signClaim(keys.bob!, `bob@${HOST}`, "bob-box") } }), 400, "bad_card");
    refused(await h.call("GET", "/api/v1/handles/Not_A_Name"), 400, "bad_request");
  });
});

describe("mail", () => {
  beforeEach(async () => {
    await claim(keys.alice!, "alice", "alice-box");
    await claim(keys.bob!, "bob", "bob-box");
    await claim(keys.eve!, "eve", "eve-box");
  });

  test("a node posts only as a handle it holds, with its key", async () => {
    expect((await h.call("POST", "/api/v1/mail", { token: tokens["alice-box"], body: { envelope: envelope(keys.alice!, "alice", keys.bob!, "bob") } })).status).toBe(201);
    refused(await h.call("POST", "/api/v1/mail", { token: tokens["eve-box"], body: { envelope: envelope(keys.alice!, "alice", keys.bob!, "bob") } }), 403, "not_your_handle");
    refused(await h.call("POST", "/api/v1/mail", { token: tokens["eve-box"], body: { envelope: { ...envelope(keys.eve!, "eve", keys.bob!, "bob"), from: { handle: `eve@${HOST}`, fp: keys.alice!.fingerprint } } } }), 403, "not_your_handle");
    refused(await h.call("POST", "/api/v1/mail", { token: tokens["alice-box"], body: { envelope: { ...envelope(keys.alice!, "alice", keys.bob!, "bob"), to: { handle: `nobody@${HOST}`, fp: keys.bob!.fingerprint } } } }), 404, "not_found");
    refused(await h.call("POST", "/api/v1/mail", { token: tokens["alice-box"], body: { envelope: { not: "an envelope" } } }), 400, "bad_request");
  });

  test("only the recipient's node takes and acknowledges its mail", async () => {
    await h.call("POST", "/api/v1/mail", { token: tokens["alice-box"], body: { envelope: envelope(keys.alice!, "alice", keys.bob!, "bob") } });
    expect((await h.call("GET", "/api/v1/mail", { token: tokens["eve-box"] })).json.mail).toEqual([]);
    const mail = (await h.call("GET", "/api/v1/mail", { token: tokens["bob-box"] })).json.mail;
    expect(mail.length).toBe(1);
    expect((await h.call("POST", "/api/v1/mail/ack", { token: tokens["eve-box"], body: { seqs: [mail[0].seq] } })).json.deleted).toBe(0);
    expect((await h.call("POST", "/api/v1/mail/ack", { token: tokens["bob-box"], body: { seqs: [mail[0].seq] } })).json.deleted).toBe(1);
    expect((await h.call("GET", "/api/v1/mail", { token: tokens["bob-box"] })).json.mail).toEqual([]);
  });

  test("rate limits: per sender and per recipient mailbox, 429 with Retry-After and a hint; they refill with time", async () => {
    const post = (from: string, node: string) => h.app.request("/api/v1/mail", { method: "POST", headers: { authorization: `Bearer ${tokens[node]}`, "content-type": "application/json" }, body: JSON.stringify({ envelope: envelope(keys[from]!, from, keys.bob!, "bob") }) });
    for (let i = 0; i < 4; i++) expect((await post("alice", "alice-box")).status).toBe(201);
    const tooFast = await post("alice", "alice-box");
    expect(tooFast.status).toBe(429);
    expect(tooFast.headers.get("retry-after")).toBe("1");
    const body = (await tooFast.json()) as { error: string; message: string; hint: string };
    expect(body.error).toBe("rate_limited");
    expect(body.message).toContain(`alice@${HOST} is sending faster`);
    expect(body.hint).toContain("try again in 1 s");
    // Another sender still gets through, until bob's mailbox has had its burst (6).
    expect((await post("eve", "eve-box")).status).toBe(201);
    expect((await post("eve", "eve-box")).status).toBe(201);
    const full = await post("eve", "eve-box");
    expect(full.status).toBe(429);
    expect(((await full.json()) as { message: string }).message).toContain(`bob is getting mail faster`);
    clock += 1000;
    expect((await post("alice", "alice-box")).status).toBe(201);
  });

  test("a full mailbox refuses more until its node takes some", async () => {
    const one = JSON.stringify(envelope(keys.alice!, "alice", keys.bob!, "bob"));
    for (let i = 0; i < MAILBOX_MAX; i++) await trust.putMail("bob", one);
    refused(await h.call("POST", "/api/v1/mail", { token: tokens["alice-box"], body: { envelope: envelope(keys.alice!, "alice", keys.bob!, "bob") } }), 429, "mailbox_full");
  });
});

test("federation retries: the wait doubles from the first up to the longest, its second half random", () => {
  const t = { retryMs: 1000, retryMaxMs: 60_000, keepMs: 86_400_000 };
  expect([0, 1, 2, 3].map((n) => backoff(n, t, () => 0))).toEqual([500, 1000, 2000, 4000]);
  expect([0, 1, 2, 3].map((n) => backoff(n, t, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  expect(backoff(40, t, () => 1)).toBe(60_000);
  const spread = new Set(Array.from({ length: 50 }, () => backoff(3, t)));
  expect(spread.size).toBeGreaterThan(10);
});
