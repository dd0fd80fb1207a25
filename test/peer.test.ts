/**
 * Peers end to end with the compiled binary: a real relay and three nodes on loopback (alice,
 * bob, and mallory the stranger), each its own data dir. Handles and signed cards on the relay,
 * pairing by consent, messages and requests both ways sealed end to end, a tampered or replayed
 * envelope in the relay's database refused, removal, rejection, and no plaintext on the relay.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { b64u, loadOrCreateIdentity, proveSession, seal, sessionSigner, signClaim, unb64u, verifyCard } from "../src/identity";
import { AgentCard } from "../src/protocol/agent-card";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CW, CwHome, RelayProcess, shq, Tmux, waitFor } from "./helpers";

let relay: RelayProcess;
let alice: CwHome;
let bob: CwHome;
let mallory: CwHome;
let host: string;
const h = (name: string) => `${name}@${host}`;
/** Every body sent in this file: none may be readable on the relay. */
const bodies: string[] = [];

async function node(name: string): Promise<CwHome> {
  const home = new CwHome();
  await home.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", name]);
  return home;
}

async function peers(home: CwHome): Promise<{ peers: any[]; refused_strangers: number }> {
  return JSON.parse(await home.ok(["peer", "list", "--json"]));
}

async function peerOf(home: CwHome, handle: string): Promise<any> {
  return (await peers(home)).peers.find((p) => p.handle === handle);
}

function waitPeer(home: CwHome, handle: string, pred: (p: any) => boolean, what: string) {
  return waitFor(async () => {
    const p = await peerOf(home, handle);
    return p && pred(p) ? p : undefined;
  }, what, 15_000);
}

async function inbox(home: CwHome, session: string, tail = 50): Promise<any[]> {
  return JSON.parse(await home.ok(["inbox", session, "--json", "--peek", "--tail", String(tail)])).messages;
}

/** A node's relay token (relay.toml): the test is each machine's owner. */
function tokenOf(home: CwHome): string {
  return /token = "([^"]+)"/.exec(readFileSync(home.path("relay.toml"), "utf8"))![1]!;
}

function trustDb(): Database {
  return new Database(relay.path("data", "trust.db"));
}

function waitingMail(): { seq: number; envelope: string }[] {
  const db = trustDb();
  try {
    return db.query("SELECT seq, envelope FROM mail ORDER BY seq").all() as { seq: number; envelope: string }[];
  } finally {
    db.close();
  }
}

async function send(from: CwHome, to: string, body: string) {
  bodies.push(body);
  return from.run(["msg", to, body]);
}

beforeAll(async () => {
  relay = new RelayProcess();
  await relay.start();
  host = new URL(relay.url).host;
  [alice, bob, mallory] = await Promise.all([node("alice-box"), node("bob-box"), node("mallory-box")]);
});
afterAll(async () => {
  for (const home of [alice, bob, mallory]) await home?.cleanup();
  await relay?.cleanup();
});

describe("identity and handles", () => {
  test("cw id: a key made at first start (0600), a fingerprint and nickname, no handle until claimed", async () => {
    const id = JSON.parse(await alice.ok(["id", "--json"]));
    expect(id.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(id.nickname).toMatch(/^[a-z]+-[a-z]+$/);
    expect(id.handle).toBeNull();
    expect(statSync(alice.path("identity.pem")).mode & 0o777).toBe(0o600);
    const text = await alice.ok(["id"]);
    expect(text).toContain(id.nickname);
    expect(text).toContain("cw id claim");
    // The same key after a restart.
    await alice.ok(["stop"]);
    expect(JSON.parse(await alice.ok(["id", "--json"])).fingerprint).toBe(id.fingerprint);
    // A session's key is its own, derived from the node's.
    await alice.ok(["launch", "planner", "--", "sleep", "600"]);
    const withSession = JSON.parse(await alice.ok(["id", "--session", "planner", "--json"]));
    expect(withSession.session.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(withSession.session.fingerprint).not.toBe(id.fingerprint);
  });

  test("claiming: first come; the same key may claim again; the card is published signed", async () => {
    const claimed = JSON.parse(await alice.ok(["id", "claim", "alice", "--json"]));
    expect(claimed.handle).toBe(h("alice"));
    expect(JSON.parse(await alice.ok(["id", "claim", "alice", "--json"])).handle).toBe(h("alice"));
    const taken = await mallory.run(["id", "claim", "alice"]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("already held by another key");
    await bob.ok(["id", "claim", "bob"]);
    await mallory.ok(["id", "claim", "mallory"]);

    const res = await fetch(`${relay.url}/handles/alice/.well-known/agent-card.json`);
    expect(res.status).toBe(200);
    const card = await res.json();
    expect(AgentCard.safeParse(card).success).toBe(true);
    const v = verifyCard(card);
    if ("error" in v) throw new Error(v.error);
    expect(v.identity.fingerprint).toBe(claimed.fingerprint);
    expect(v.identity.handle).toBe(h("alice"));
    const lookup = await fetch(`${relay.url}/api/v1/handles/alice`);
    expect(((await lookup.json()) as { card: unknown }).card).toEqual(card);
    expect((await fetch(`${relay.url}/api/v1/handles/nobody`)).status).toBe(404);

    // Alice's card is public; mallory posting it with a claim of her own key does not move the handle.
    const steal = await relay.api("POST", "/api/v1/handles", { card, claim: signClaim(loadOrCreateIdentity(mallory.path("identity.pem")), h("alice"), "mallory-box") }, tokenOf(mallory));
    expect(steal.status).toBe(403);
    expect(steal.json.error).toBe("bad_claim");
  });
});

describe("consent", () => {
  test("a pair request waits for its owner; nothing is sent before; a stranger gets one pending request", async () => {
    expect((await alice.ok(["peer", "add", h("bob")])).toString()).toContain(`asked ${h("bob")}`);
    const pending = await waitFor(async () => {
      const list = JSON.parse(await bob.ok(["peer", "pending", "--json"]));
      return list.length ? list : undefined;
    }, "alice's request on bob", 15_000);
    expect(pending.map((p: any) => p.handle)).toEqual([h("alice")]);
    expect(await bob.ok(["peer", "pending"])).toContain(`cw peer accept ${h("alice")}`);

    // Before bob accepts, alice's node will not send to him.
    const early = await send(alice, `${h("bob")}:coder`, "too early");
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("not a paired peer");

    // Mallory asks five times: one pending request, the rest refused and counted.
    for (let i = 0; i < 5; i++) await mallory.ok(["peer", "add", h("bob")]);
    const flood = await waitPeer(bob, h("mallory"), (p) => p.refused.unpaired >= 4, "mallory's repeats refused");
    expect(flood.state).toBe("pending_in");
    expect(JSON.parse(await bob.ok(["peer", "pending", "--json"])).length).toBe(2);
  });

  test("what a person sees in a terminal: bob's face and handle, and who asks to pair", async () => {
    const tmux = new Tmux();
    try {
      const me = JSON.parse(await bob.ok(["id", "--json"]));
      // One shell line under env: both commands must see bob's CODEWIRE_HOME.
      await tmux.start(`sh -c ${shq(`${shq(CW)} id; ${shq(CW)} peer pending`)}`, bob.env, 120, 30);
      const screen = await tmux.waitScreen((t) => t.includes("[exit 0]"), "cw id and cw peer pending to finish");
      expect(screen).toContain(`${me.emoji} ${me.nickname}`);
      expect(screen).toMatch(new RegExp(`handle\\s+${h("bob").replace(/\./g, "\\.")}`));
      expect(screen).toContain(`${h("alice")} (`);
      expect(screen).toContain(`wants to pair — cw peer accept ${h("alice")}`);
    } finally {
      await tmux.kill();
    }
  });

  test("MCP: an agent lists the pending requests and can ask, but cannot accept", async () => {
    const client = new Client({ name: "peer-test", version: "1.0.0" });
    await client.connect(new StdioClientTransport({ command: CW, args: ["mcp-server"], env: bob.env, cwd: bob.dir, stderr: "pipe" }));
    try {
      const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name).filter((n) => n.includes("peer"));
      expect(names.sort()).toEqual(["codewire_peer_add", "codewire_peer_msg", "codewire_peers"]);
      expect(tools.find((t) => t.name === "codewire_peers")!.description).toContain("cannot be done with these tools");
      const pending = await call("codewire_peers", { pending_only: true });
      expect((pending.structuredContent as any).peers.map((p: any) => p.handle).sort()).toEqual([h("alice"), h("mallory")]);
      // Asking back is not accepting: alice stays pending until bob's owner decides.
      const asked = await call("codewire_peer_add", { handle: h("alice") });
      expect(asked.isError).toBeFalsy();
      expect((asked.content[0] as { text: string }).text).toContain(`cw peer accept ${h("alice")}`);
      expect((await peerOf(bob, h("alice"))).state).toBe("pending_in");
      const sealed = await call("codewire_peer_msg", { handle: h("alice"), to: "planner", body: "sneaky" });
      expect(sealed.isError).toBe(true);
      expect((sealed.content[0] as { text: string }).text).toContain("not a paired peer");
    } finally {
      await client.close();
    }
  });

  test("an envelope from a key bob never accepted does not reach any inbox", async () => {
    await bob.ok(["launch", "coder", "--", "sleep", "600"]);
    // The test holds mallory's key (it is mallory's machine) and writes a message by hand.
    const key = loadOrCreateIdentity(mallory.path("identity.pem"));
    const bobId = JSON.parse(await bob.ok(["id", "--json"]));
    bodies.push("let me in");
    const env = seal(key, h("mallory"), { handle: h("bob"), fp: bobId.fingerprint, x25519: unb64u(bobId.x25519) }, { kind: "msg", to_session: "coder", from: null, body: "let me in" }, { id: "env_forced_0001", seq: 1000 });
    const r = await relay.api("POST", "/api/v1/mail", { envelope: env }, tokenOf(mallory));
    expect(r.status).toBe(201);
    await waitPeer(bob, h("mallory"), (p) => p.refused.unpaired >= 5, "mallory's message refused");
    expect(await inbox(bob, "coder")).toEqual([]);
    expect(readFileSync(bob.path("node.log"), "utf8")).toMatch(/refused envelope env_forced_0001 from mallory@.*unpaired/);
  });

  test("bob accepts: both sides paired; messages both ways land in inboxes with the sender's verified handle", async () => {
    expect(await bob.ok(["peer", "accept", h("alice")])).toContain(`paired ${h("alice")}`);
    await waitPeer(alice, h("bob"), (p) => p.state === "paired", "alice to see bob accept");

    expect((await send(alice, `${h("bob")}:coder`, "hello bob, from alice")).code).toBe(0);
    const got = await waitFor(async () => (await inbox(bob, "coder")).find((m) => m.body === "hello bob, from alice"), "alice's message in coder's inbox", 15_000);
    expect(got.from.node).toBe(h("alice"));
    expect(await bob.ok(["inbox", "coder", "--peek"])).toContain(`${h("alice")}:`);

    const typed = await bob.run(["msg", `${h("alice")}:planner`, "type this", "--delivery", "both"]);
    expect(typed.code).toBe(2);
    expect(typed.stderr).toContain("inbox only");
    const back = await bob.run(["msg", "-f", "coder", `${h("alice")}:planner`, "hello alice, from bob's coder"]);
    bodies.push("hello alice, from bob's coder");
    expect(back.code).toBe(0);
    const reply = await waitFor(async () => (await inbox(alice, "planner")).find((m) => m.body === "hello alice, from bob's coder"), "bob's message in planner's inbox", 15_000);
    expect(reply.from).toMatchObject({ node: h("bob"), name: "coder" });
  });

  test("request and reply across owners", async () => {
    bodies.push("ready for review?", "yes, PR 42");
    const asking = alice.spawn(["request", "-f", "planner", `${h("bob")}:coder`, "ready for review?", "--timeout", "30"]);
    const req = await waitFor(async () => (await inbox(bob, "coder")).find((m) => m.kind === "request" && m.body === "ready for review?"), "the request in coder's inbox", 15_000);
    expect(req.from).toMatchObject({ node: h("alice"), name: "planner" });
    await bob.ok(["reply", req.id, "yes, PR 42", "-f", "coder"]);
    const [out, code] = await Promise.all([new Response(asking.stdout).text(), asking.exited]);
    expect(code).toBe(0);
    expect(out).toContain(`[reply from ${h("bob")}:coder] yes, PR 42`);
  });

  test("each message is signed by its session's key under alice's node key; a claim to a session the chain does not certify is refused", async () => {
    // The test holds alice's key (it is alice's machine) and writes what a node could forge.
    const key = loadOrCreateIdentity(alice.path("identity.pem"));
    const bobId = JSON.parse(await bob.ok(["id", "--json"]));
    const before = (await peerOf(bob, h("alice"))).refused.tampered;
    const to = { handle: h("bob"), fp: bobId.fingerprint, x25519: unb64u(bobId.x25519) };
    const post = async (id: string, payload: object) => {
      const env = seal(key, h("alice"), to, payload, { id, seq: 900_000 });
      expect((await relay.api("POST", "/api/v1/mail", { envelope: env }, tokenOf(alice))).status).toBe(201);
    };
    bodies.push("from planner, honest", "no session signature");
    const msg = (body: string) => ({ kind: "msg", to_session: "coder", from: { id: 1, name: "planner" }, body });
    // Signed by session 2's key, certified for session 2: it claims session 1.
    await post("env_forged_session_1", { ...msg("from planner, honest"), proof: proveSession(sessionSigner(key, 2, "planner"), { envelopeId: "env_forged_session_1", kind: "msg", to: "coder", body: "from planner, honest" }) });
    await post("env_forged_session_2", msg("no session signature"));
    await waitPeer(bob, h("alice"), (p) => p.refused.tampered >= before + 2, "both refused");
    const got = await inbox(bob, "coder", 200);
    expect(got.some((m) => m.body === "from planner, honest" || m.body === "no session signature")).toBe(false);
    const log = readFileSync(bob.path("node.log"), "utf8");
    expect(log).toMatch(/refused envelope env_forged_session_1 from alice@.*tampered: it claims session 1 \(planner\), but its certificate is for session 2/);
    expect(log).toMatch(/refused envelope env_forged_session_2 from alice@.*tampered: it claims session 1 without that session's signature/);
  });

  test("twenty messages sent at once all arrive (one peer's envelopes leave in order)", async () => {
    const many = Array.from({ length: 20 }, (_, i) => `burst message ${i}`);
    bodies.push(...many);
    const sent = await Promise.all(many.map((b) => send(alice, `${h("bob")}:coder`, b)));
    expect(sent.map((r) => r.code)).toEqual(many.map(() => 0));
    await waitFor(async () => {
      const got = new Set((await inbox(bob, "coder", 200)).map((m) => m.body));
      return many.every((b) => got.has(b));
    }, "all twenty in coder's inbox", 30_000);
  });
});

test("broadcast --peers reaches every paired peer's running sessions", async () => {
  bodies.push("all hands: v2 is tagged");
  const r = JSON.parse(await alice.ok(["broadcast", "--peers", "-f", "planner", "all hands: v2 is tagged", "--json"]));
  expect(r).toEqual({ sent: [h("bob")], failed: [] });
  const got = await waitFor(async () => (await inbox(bob, "coder")).find((m) => m.body === "all hands: v2 is tagged"), "the broadcast on bob", 15_000);
  expect(got.from).toMatchObject({ node: h("alice"), name: "planner" });
  // Mallory is no peer of bob's: she has nobody to broadcast to.
  const none = await mallory.run(["broadcast", "--peers", "anyone?"]);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain("no paired peers");
});

describe("what the relay holds", () => {
  // Bob's node is stopped, so what alice sends waits in the relay's database, where the test
  // plays a relay that misbehaves.
  test("a tampered envelope in the relay's database is refused, not delivered; the relay holds no plaintext", async () => {
    const before = (await peerOf(bob, h("alice"))).refused.tampered;
    await bob.ok(["stop"]);
    expect((await send(alice, `${h("bob")}:coder`, "tamper with me")).code).toBe(0);
    const [row] = waitingMail();
    expect(row).toBeDefined();
    expect(row!.envelope).not.toContain("tamper with me");
    const env = JSON.parse(row!.envelope);
    const ct = unb64u(env.ct);
    ct[3]! ^= 0x20;
    const db = trustDb();
    db.query("UPDATE mail SET envelope = ? WHERE seq = ?").run(JSON.stringify({ ...env, ct: b64u(ct) }), row!.seq);
    db.close();
    await bob.ok(["launch", "coder", "--", "sleep", "600"]);
    await waitPeer(bob, h("alice"), (p) => p.refused.tampered === before + 1, "the tampered envelope refused");
    expect((await inbox(bob, "coder")).some((m) => m.body === "tamper with me")).toBe(false);
    expect(readFileSync(bob.path("node.log"), "utf8")).toMatch(/refused envelope env_\w+ from alice@.*tampered/);
    await waitFor(() => waitingMail().length === 0, "the relay's copy taken");
  });

  test("a replayed envelope is refused; later ones still arrive", async () => {
    await bob.ok(["stop"]);
    expect((await send(alice, `${h("bob")}:coder`, "say this once")).code).toBe(0);
    const copy = waitingMail()[0]!.envelope;
    await bob.ok(["launch", "coder", "--", "sleep", "600"]);
    await waitFor(() => waitingMail().length === 0, "bob's node to take the original");
    const db = trustDb();
    db.query("INSERT INTO mail (handle, envelope, created_at) VALUES ('bob', ?, ?)").run(copy, Date.now());
    db.close();
    expect((await send(alice, `${h("bob")}:coder`, "and this after")).code).toBe(0);
    await waitFor(async () => (await inbox(bob, "coder")).find((m) => m.body === "and this after"), "the next message", 15_000);
    expect((await inbox(bob, "coder")).filter((m) => m.body === "say this once").length).toBeLessThanOrEqual(1);
    expect((await peerOf(bob, h("alice"))).refused.replayed).toBe(1);
    expect(readFileSync(bob.path("node.log"), "utf8")).toMatch(/refused envelope env_\w+ from alice@.*replayed/);
  });

  test("no message body is readable anywhere in the relay's data", () => {
    const dir = relay.path("data");
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      for (const b of bodies) expect({ file: f, found: bytes.includes(Buffer.from(b)) }).toEqual({ file: f, found: false });
    }
  });
});

describe("ending it", () => {
  test("reject: the stranger's request is gone and it cannot ask again", async () => {
    expect(await bob.ok(["peer", "reject", h("mallory")])).toContain("rejected");
    expect(JSON.parse(await bob.ok(["peer", "pending", "--json"]))).toEqual([]);
    const before = (await peerOf(bob, h("mallory"))).refused.unpaired;
    await mallory.ok(["peer", "add", h("bob")]);
    await waitPeer(bob, h("mallory"), (p) => p.refused.unpaired > before, "mallory's new request refused");
    expect(JSON.parse(await bob.ok(["peer", "pending", "--json"]))).toEqual([]);
  });

  test("remove: delivery stops both ways at once", async () => {
    expect(await bob.ok(["peer", "remove", h("alice")])).toContain("removed");
    const out = await bob.run(["msg", `${h("alice")}:planner`, "after removal"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("not a paired peer");
    await waitPeer(alice, h("bob"), (p) => p.state === "removed", "alice told of the removal");
    const late = await alice.run(["msg", `${h("bob")}:coder`, "after removal"]);
    expect(late.code).toBe(1);
    expect(await alice.ok(["peer", "list"])).toMatch(/removed/);
  });
});
