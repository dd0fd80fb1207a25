/**
 * src/identity in process: keys made once and kept 0600, signatures, sealing, cards and claims,
 * and that a changed byte, a replay, a reordered or stale envelope, or another key are refused.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  b64u,
  checkFresh,
  checkOrder,
  EnvelopeError,
  type Identity,
  loadOrCreateIdentity,
  makeCard,
  MemorySeen,
  open,
  proveSession,
  seal,
  sessionProofError,
  sessionSigner,
  signClaim,
  signedBy,
  unb64u,
  verifyCard,
  verifyCertificate,
  verifyClaim,
  verifySignature,
} from "../src/identity";
import { AgentCard } from "../src/protocol/agent-card";

let dir: string;
let alice: Identity;
let bob: Identity;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cw-identity-"));
  alice = loadOrCreateIdentity(join(dir, "alice.pem"));
  bob = loadOrCreateIdentity(join(dir, "bob.pem"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const toBob = () => ({ handle: "bob@relay-b.test", fp: bob.fingerprint, x25519: bob.x25519 });
let n = 0;
const meta = () => ({ id: `env-${++n}`, seq: n });

describe("keys", () => {
  test("made once, kept 0600, the same identity when loaded again", () => {
    const path = join(dir, "alice.pem");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toContain("PRIVATE KEY");
    const again = loadOrCreateIdentity(path);
    expect(again.fingerprint).toBe(alice.fingerprint);
    expect(again.x25519.equals(alice.x25519)).toBe(true);
    expect(alice.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(alice.fingerprint).not.toBe(bob.fingerprint);
    expect(alice.face.nickname).toMatch(/^[a-z]+-[a-z]+$/);
  });

  test("sign and verify; another key or a changed byte does not verify", () => {
    const data = Buffer.from("hello");
    const sig = alice.sign(data);
    expect(verifySignature(alice.ed25519, data, sig)).toBe(true);
    expect(verifySignature(bob.ed25519, data, sig)).toBe(false);
    expect(verifySignature(alice.ed25519, Buffer.from("hellO"), sig)).toBe(false);
    expect(verifySignature(alice.ed25519, data, sig.subarray(1))).toBe(false);
  });

  test("a session's key is derived from the node's, the same each time, and certified by it", () => {
    const s3 = alice.session(3);
    expect(s3.fingerprint).toBe(alice.session(3).fingerprint);
    expect(s3.fingerprint).not.toBe(alice.session(4).fingerprint);
    expect(s3.fingerprint).not.toBe(alice.fingerprint);
    const cert = alice.issue(s3, 3);
    expect(verifyCertificate(cert, alice.ed25519)).toBe(true);
    expect(verifyCertificate(cert, bob.ed25519)).toBe(false);
    expect(verifyCertificate({ ...cert, session: 4 }, alice.ed25519)).toBe(false);
  });

  test("a session signs a message; the chain (node key, certificate, session key) verifies only the session it certifies", () => {
    const m = { envelopeId: "env_0123456789", kind: "msg", to: "coder", body: "hi" };
    const proof = proveSession(sessionSigner(alice, 3, "planner"), m);
    expect(sessionProofError(proof, alice.ed25519, { id: 3, name: "planner" }, m)).toBeNull();
    expect(sessionProofError(proof, bob.ed25519, { id: 3, name: "planner" }, m)).toContain("not signed by the sending node's key");
    expect(sessionProofError(proof, alice.ed25519, { id: 4, name: "planner" }, m)).toContain("certificate is for session 3");
    expect(sessionProofError(proof, alice.ed25519, { id: 3, name: "coder" }, m)).toContain("certificate is for session 3 (planner)");
    expect(sessionProofError({ ...proof, cert: { ...proof.cert, name: "coder" } }, alice.ed25519, { id: 3, name: "coder" }, m)).toContain("not signed by the sending node's key");
    expect(sessionProofError(proof, alice.ed25519, { id: 3, name: "planner" }, { ...m, body: "hI" })).toContain("does not verify");
    expect(sessionProofError(proof, alice.ed25519, { id: 3, name: "planner" }, { ...m, envelopeId: "env_other00000" })).toContain("does not verify");
    expect(sessionProofError(undefined, alice.ed25519, { id: 3 }, m)).toContain("without that session's signature");
  });
});

describe("sealing", () => {
  test("only the recipient opens it, and the sender's key verifies it", () => {
    const e = seal(alice, "alice@relay-a.test", toBob(), { kind: "msg", body: "the secret plan" }, meta());
    expect(JSON.stringify(e)).not.toContain("secret plan");
    expect(signedBy(e, alice.ed25519)).toBe(true);
    expect(signedBy(e, bob.ed25519)).toBe(false);
    expect(open(e, bob)).toEqual({ kind: "msg", body: "the secret plan" });
    expect(() => open(e, alice)).toThrow(EnvelopeError);
  });

  test("a changed byte of the ciphertext, or of any header field, is refused", () => {
    const e = seal(alice, "alice@relay-a.test", toBob(), { body: "hi" }, meta());
    const ct = unb64u(e.ct);
    ct[0]! ^= 1;
    const tampered = { ...e, ct: b64u(ct) };
    expect(signedBy(tampered, alice.ed25519)).toBe(false);
    expect(() => open(tampered, bob)).toThrow(/does not decrypt/);
    for (const changed of [{ ...e, seq: e.seq + 1 }, { ...e, ts: e.ts + 1 }, { ...e, id: "other" }, { ...e, from: { ...e.from, handle: "mallory@x.test" } }]) {
      expect(signedBy(changed, alice.ed25519)).toBe(false);
      expect(() => open(changed, bob)).toThrow(/does not decrypt/);
    }
  });

  test("a relay that re-signs an envelope with its own key cannot make it open", () => {
    const mallory = loadOrCreateIdentity(join(dir, "mallory.pem"));
    const e = seal(alice, "alice@relay-a.test", toBob(), { body: "hi" }, meta());
    const forged = { ...e, from: { handle: "mallory@x.test", fp: mallory.fingerprint } };
    expect(signedBy(forged, mallory.ed25519)).toBe(false);
    expect(() => open(forged, bob)).toThrow(EnvelopeError);
  });
});

describe("replays", () => {
  test("an id is accepted once; too old or from the future is refused", () => {
    const seen = new MemorySeen();
    const now = Date.now();
    checkFresh({ id: "a", ts: now }, seen, now);
    expect(() => checkFresh({ id: "a", ts: now }, seen, now)).toThrow(/already received/);
    expect(() => checkFresh({ id: "b", ts: now + 11 * 60_000 }, seen, now)).toThrow(/future/);
    expect(() => checkFresh({ id: "c", ts: now - 8 * 24 * 3600_000 }, seen, now)).toThrow(/older/);
    checkFresh({ id: "d", ts: now - 3600_000 }, seen, now);
  });

  test("a sequence number at or below the last accepted is refused", () => {
    checkOrder(5, 4);
    expect(() => checkOrder(4, 4)).toThrow(/replayed or reordered/);
    expect(() => checkOrder(3, 4)).toThrow(EnvelopeError);
  });
});

describe("cards and claims", () => {
  const info = { handle: "alice@relay-a.test", mailbox: "https://relay-a.test/api/v1/mail", url: "https://relay-a.test" };

  test("a card has the A2A shape and verifies with its own key", () => {
    const card = makeCard(alice, info);
    expect(AgentCard.safeParse(card).success).toBe(true);
    const v = verifyCard(JSON.parse(JSON.stringify(card)));
    if ("error" in v) throw new Error(v.error);
    expect(v.identity.handle).toBe("alice@relay-a.test");
    expect(v.keys.fingerprint).toBe(alice.fingerprint);
    expect(v.keys.x25519.equals(alice.x25519)).toBe(true);
  });

  test("a card changed after signing, or re-keyed, is refused", () => {
    const card = makeCard(alice, info);
    const ext = card.capabilities.extensions![0]!;
    const swapped = structuredClone(card);
    (swapped.capabilities.extensions![0]!.params as Record<string, unknown>).x25519 = b64u(bob.x25519);
    expect(verifyCard(swapped)).toEqual({ error: expect.stringContaining("does not verify") });
    const renamed = { ...card, description: "evil" };
    expect("error" in verifyCard(renamed)).toBe(true);
    const rekeyed = structuredClone(card);
    Object.assign(rekeyed.capabilities.extensions![0]!.params!, { ed25519: b64u(bob.ed25519) });
    expect("error" in verifyCard(rekeyed)).toBe(true);
    expect(ext.uri).toContain("codewire");
  });

  test("a claim is bound to its handle, node, key and time", () => {
    const now = Date.now();
    const c = signClaim(alice, "alice@relay-a.test", "dev-1", now);
    expect(verifyClaim(c, alice.ed25519, "alice@relay-a.test", "dev-1", now)).toBe(true);
    expect(verifyClaim(c, bob.ed25519, "alice@relay-a.test", "dev-1", now)).toBe(false);
    expect(verifyClaim(c, alice.ed25519, "alice@relay-a.test", "dev-2", now)).toBe(false);
    expect(verifyClaim(c, alice.ed25519, "alice@relay-a.test", "dev-1", now + 10 * 60_000)).toBe(false);
  });
});
