/**
 * Peers across two relays (federation), with the compiled binary on loopback: alice's node on
 * relay A, carol's on relay B. Pairing, messages both ways and request/reply go from one relay
 * to the other; B takes an envelope from A only when it is signed by the key A publishes for its
 * sender; neither relay's data holds a body.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadOrCreateIdentity, seal, unb64u } from "../src/identity";
import { CwHome, RelayProcess, waitFor } from "./helpers";

let relayA: RelayProcess;
let relayB: RelayProcess;
let alice: CwHome;
let carol: CwHome;
let aliceH: string;
let carolH: string;
const bodies = ["hi carol, across relays", "hi alice, from relay B", "deploy?", "deployed", "sent while relay B was down", "never delivered"];
const FAST_RETRY = { CW_FEDERATION_RETRY_MS: "100", CW_FEDERATION_RETRY_MAX_MS: "1000" };

function portOf(relay: RelayProcess): number {
  return Number(new URL(relay.url).port);
}

async function node(relay: RelayProcess, name: string, handle: string): Promise<CwHome> {
  const home = new CwHome();
  await home.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", name]);
  await home.ok(["id", "claim", handle]);
  return home;
}

async function peerOf(home: CwHome, handle: string): Promise<any> {
  return (JSON.parse(await home.ok(["peer", "list", "--json"])).peers as any[]).find((p) => p.handle === handle);
}

async function inbox(home: CwHome, session: string): Promise<any[]> {
  return JSON.parse(await home.ok(["inbox", session, "--json", "--peek"])).messages;
}

beforeAll(async () => {
  relayA = new RelayProcess();
  relayB = new RelayProcess();
  // Relay A tries a relay that is down again soon (100 ms, at most 1 s apart), for the queue's tests.
  await Promise.all([relayA.start(0, { env: FAST_RETRY }), relayB.start()]);
  [alice, carol] = await Promise.all([node(relayA, "alice-box", "alice"), node(relayB, "carol-box", "carol")]);
  aliceH = `alice@${new URL(relayA.url).host}`;
  carolH = `carol@${new URL(relayB.url).host}`;
  await alice.ok(["launch", "planner", "--", "sleep", "600"]);
  await carol.ok(["launch", "coder", "--", "sleep", "600"]);
});
afterAll(async () => {
  await alice?.cleanup();
  await carol?.cleanup();
  await relayA?.cleanup();
  await relayB?.cleanup();
});

test("pairing, messages both ways and request/reply across two relays", async () => {
  await alice.ok(["peer", "add", carolH]);
  await waitFor(async () => (await peerOf(carol, aliceH))?.state === "pending_in", "alice's request on carol (through relay B)", 15_000);
  await carol.ok(["peer", "accept", aliceH]);
  await waitFor(async () => (await peerOf(alice, carolH))?.state === "paired", "alice to see carol accept", 15_000);

  await alice.ok(["msg", "-f", "planner", `${carolH}:coder`, bodies[0]!]);
  const got = await waitFor(async () => (await inbox(carol, "coder")).find((m) => m.body === bodies[0]), "alice's message on carol", 15_000);
  expect(got.from).toMatchObject({ node: aliceH, name: "planner" });
  await carol.ok(["msg", `${aliceH}:planner`, bodies[1]!]);
  const back = await waitFor(async () => (await inbox(alice, "planner")).find((m) => m.body === bodies[1]), "carol's message on alice", 15_000);
  expect(back.from.node).toBe(carolH);

  const asking = alice.spawn(["request", "-f", "planner", `${carolH}:coder`, bodies[2]!, "--timeout", "30"]);
  const req = await waitFor(async () => (await inbox(carol, "coder")).find((m) => m.kind === "request"), "the request on carol", 15_000);
  await carol.ok(["reply", req.id, bodies[3]!, "-f", "coder"]);
  const [out, code] = await Promise.all([new Response(asking.stdout).text(), asking.exited]);
  expect(code).toBe(0);
  expect(out).toContain(`[reply from ${carolH}:coder] ${bodies[3]}`);
});

test("relay B refuses an envelope whose signature is not the key relay A publishes for its sender", async () => {
  const carolId = JSON.parse(await carol.ok(["id", "--json"]));
  const impostor = loadOrCreateIdentity(join(alice.dir, "not-alice.pem"));
  const aliceId = JSON.parse(await alice.ok(["id", "--json"]));
  const forged = seal(impostor, aliceH, { handle: carolH, fp: carolId.fingerprint, x25519: unb64u(carolId.x25519) }, { kind: "msg", to_session: "coder", from: null, body: "forged" }, { id: "env_forged_00001", seq: 999 });
  const asAlice = { ...forged, from: { handle: aliceH, fp: aliceId.fingerprint } };
  for (const env of [forged, asAlice]) {
    const res = await fetch(`${relayB.url}/api/v1/federation/mail`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ envelope: env }) });
    expect(res.status).toBe(403);
  }
  expect((await inbox(carol, "coder")).some((m) => m.body === "forged")).toBe(false);
});

test("relay B down: relay A keeps the envelope, retries with backoff, and hands it over when B is back", async () => {
  await relayB.stop();
  const sent = await alice.run(["msg", "-f", "planner", `${carolH}:coder`, bodies[4]!]);
  expect(sent.code).toBe(0);
  expect(readFileSync(alice.path("node.log"), "utf8")).toMatch(/relay cannot be reached; this relay keeps envelope env_\w+/);
  const queued = () => {
    const db = new Database(relayA.path("data", "trust.db"));
    db.exec("PRAGMA busy_timeout = 5000");
    try {
      return db.query("SELECT envelope, attempts FROM outbound").all() as { envelope: string; attempts: number }[];
    } finally {
      db.close();
    }
  };
  // Tried again while B is down (attempts count up), and kept as ciphertext.
  const rows = await waitFor(() => {
    const r = queued();
    return r.length === 1 && r[0]!.attempts >= 2 ? r : undefined;
  }, "relay A to try B again", 10_000);
  expect(rows[0]!.envelope).not.toContain(bodies[4]!);
  await relayB.start(portOf(relayB));
  const got = await waitFor(async () => (await inbox(carol, "coder")).find((m) => m.body === bodies[4]), "the kept message on carol after B's return", 30_000);
  expect(got.from).toMatchObject({ node: aliceH, name: "planner" });
  await waitFor(() => queued().length === 0, "relay A's queue empty");
  expect(relayA.stderr).toMatch(/federation: .* took envelope env_\w+ after \d+ attempts/);
});

test("an envelope still waiting when its time is up is dropped, and its sender's node is told", async () => {
  // Relay A again, now keeping envelopes for one second.
  await relayA.stop();
  await relayA.start(portOf(relayA), { env: { ...FAST_RETRY, CW_FEDERATION_KEEP_S: "1" } });
  await relayB.stop();
  try {
    expect((await alice.run(["msg", `${carolH}:coder`, bodies[5]!])).code).toBe(0);
    await waitFor(() => /peer: envelope env_\w+ to carol@\S+ was not delivered: \S+ could not be reached for 1 s/.test(readFileSync(alice.path("node.log"), "utf8")), "alice's node told of the drop", 20_000);
    expect((await peerOf(alice, carolH)).undelivered).toBe(1);
    expect(await alice.ok(["peer", "list"])).toContain("1 undelivered");
  } finally {
    await relayB.start(portOf(relayB));
  }
  // B is back; the next message is delivered (the dropped one's number is skipped, not awaited).
  await alice.ok(["msg", `${carolH}:coder`, "after the drop"]);
  await waitFor(async () => (await inbox(carol, "coder")).find((m) => m.body === "after the drop"), "the next message on carol", 30_000);
  expect((await inbox(carol, "coder")).some((m) => m.body === bodies[5])).toBe(false);
});

test("neither relay's data holds a message body", () => {
  for (const relay of [relayA, relayB]) {
    const dir = relay.path("data");
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      for (const b of bodies) expect({ file: f, found: bytes.includes(Buffer.from(b)) }).toEqual({ file: f, found: false });
    }
  }
});
