/**
 * Peers across two relays (federation), with the compiled binary on loopback: alice's node on
 * relay A, carol's on relay B. Pairing, messages both ways and request/reply go from one relay
 * to the other; B takes an envelope from A only when it is signed by the key A publishes for its
 * sender; neither relay's data holds a body.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
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
const bodies = ["hi carol, across relays", "hi alice, from relay B", "deploy?", "deployed"];

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
  await Promise.all([relayA.start(), relayB.start()]);
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

test("neither relay's data holds a message body", () => {
  for (const relay of [relayA, relayB]) {
    const dir = relay.path("data");
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      for (const b of bodies) expect({ file: f, found: bytes.includes(Buffer.from(b)) }).toEqual({ file: f, found: false });
    }
  }
});
