/**
 * `bun scripts/bench/peer.ts` (issue 19): what signing and sealing messages between peers costs,
 * beside the plain relay path.
 *
 * Three nodes and two relays on loopback: alice and bob on relay A, carol on relay B (federated
 * with A, as in test/peer-federation.test.ts). Alice sends messages four ways:
 *
 *   plain       — `CW_NODE_E2E=0 cw msg bob-box:coder`: a MsgSend to bob's node through relay
 *                 A's WebSocket tunnel, nothing signed or sealed (the relay carries the request)
 *   own nodes   — `cw msg -f sender bob-box:own`: the same owner's nodes end to end, no
 *                 pairing (a PeerMsg to node:bob-box): signed by the sending session's key, under
 *                 alice's node key, sealed to bob's node; relay A holds it until bob's node takes it
 *   sealed, 1   — `cw msg -f sender bob@A:sealed`: a paired peer, signed and sealed the same way
 *   sealed, 2   — `cw msg -f sender carol@B:sealed`: the same, relay A hands it to relay B first
 *
 * The relays run with mail rate limits far above what the bench sends (they would otherwise cap
 * one sender at 100 envelopes a second after a burst of 500: a limit, not a cost).
 *
 * Each message opens its own connection, as each `cw msg` does. First BENCH_MSGS messages
 * (default 100) one after another: the rate until the last is in the recipient's inbox, the
 * send round trip (connect, request, the reply `cw msg` waits for) p50/p99, and the CPU per
 * message of the sending node, the receiving node and the relays (utime+stime from /proc, in
 * 10 ms ticks: rough). Then 80 messages from 8 senders at once, counting what arrives and what
 * the recipient refuses (a sealed envelope overtaken by a later one is refused as reordered).
 * Last, in this process, the CPU of the src/identity functions alone: seal (which signs with
 * the node's key), a session's signature with its certificate, sign, checking a signature and a
 * session's chain, and opening.
 * Message bodies and counts are fixed, so runs differ only by the machine's noise.
 */
import { join } from "node:path";
import { NodeConnection } from "../../src/client/connection";
import { loadOrCreateIdentity, open, proveSession, seal, sessionProofError, sessionSigner, signedBy } from "../../src/identity";
import { CwHome, RelayProcess, waitFor } from "../../test/helpers";
import { cpuSeconds, quantile } from "./util";

const MSGS = Number(process.env.BENCH_MSGS) > 0 ? Math.min(800, Number(process.env.BENCH_MSGS)) : 100; // the relay's mailbox holds 1000
const BURST = 80;
const BURST_SENDERS = 8;
const CRYPTO_LOOPS = 2000;
const BODY = "the API changed: rebase on main and run the tests before you push";

async function node(relay: RelayProcess, name: string, handle: string): Promise<CwHome> {
  const home = new CwHome();
  await home.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", name]);
  await home.ok(["id", "claim", handle]);
  return home;
}

async function peerState(home: CwHome, handle: string): Promise<string | undefined> {
  return (JSON.parse(await home.ok(["peer", "list", "--json"])).peers as { handle: string; state: string }[]).find((p) => p.handle === handle)?.state;
}

/** `from` asks `to` to pair, `to`'s owner accepts, and both see it. */
async function pair(from: CwHome, fromH: string, to: CwHome, toH: string): Promise<void> {
  await from.ok(["peer", "add", toH]);
  await waitFor(async () => (await peerState(to, fromH)) === "pending_in", `${fromH}'s request on ${toH}`, 20_000);
  await to.ok(["peer", "accept", fromH]);
  await waitFor(async () => (await peerState(from, toH)) === "paired", `${fromH} to see ${toH} accept`, 20_000);
}

async function inboxCount(home: CwHome, session: string): Promise<number> {
  return (JSON.parse(await home.ok(["inbox", session, "--json", "--peek", "--tail", "1000"])).messages as unknown[]).length;
}

/** Envelopes from `from` that `home`'s node refused, all reasons together. */
async function refusedFrom(home: CwHome, from: string | undefined): Promise<number> {
  if (!from) return 0;
  const p = (JSON.parse(await home.ok(["peer", "list", "--json"])).peers as { handle: string; refused: Record<string, number> }[]).find((x) => x.handle === from);
  return p ? Object.values(p.refused).reduce((a, b) => a + b, 0) : 0;
}

interface Path {
  name: string;
  connect: () => Promise<NodeConnection>;
  request: (i: number) => object;
  to: CwHome;
  session: string;
  /** The sender's handle on the recipient, for a sealed path (whose refusals are counted). */
  from?: string;
  pids: Record<string, number>;
}

interface PathResult {
  perS: number;
  p50: number;
  p99: number;
  cpuUs: Record<string, number>;
  delivered: number;
  refused: number;
}

/**
 * Sends `count` messages from `senders` senders at once, each message on its own connection
 * (as each `cw msg` opens one, and the node answers and closes it); then waits until every one
 * is in the inbox or was refused there.
 */
async function measure(path: Path, count: number, senders: number): Promise<PathResult> {
  const { name, to, session } = path;
  const [inbox0, refused0] = [await inboxCount(to, session), await refusedFrom(to, path.from)];
  const cpu0 = Object.fromEntries(Object.entries(path.pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async (_, c) => {
      for (let i = c; i < count; i += senders) {
        const s = performance.now();
        const conn = await path.connect();
        conn.send(path.request(i) as never);
        const r = await conn.nextReply();
        conn.close();
        if (r?.type !== "MsgSent") throw new Error(`${name}: message ${i} answered ${JSON.stringify(r)}`);
        lat.push(performance.now() - s);
      }
    }),
  );
  let delivered = 0;
  let refused = 0;
  await waitFor(
    async () => {
      delivered = (await inboxCount(to, session)) - inbox0;
      refused = (await refusedFrom(to, path.from)) - refused0;
      return delivered + refused >= count;
    },
    `${name}: all ${count} messages in the inbox or refused`,
    60_000,
    50,
  );
  const secs = (performance.now() - t0) / 1000;
  const cpuUs = Object.fromEntries(Object.entries(path.pids).map(([k, pid]) => [k, ((cpuSeconds(pid) - cpu0[k]!) / count) * 1e6]));
  return { perS: delivered / secs, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), cpuUs, delivered, refused };
}

/** µs per call of `fn`, over CRYPTO_LOOPS calls (after a few to warm up). */
function perCall(fn: (i: number) => unknown): number {
  for (let i = 0; i < 50; i++) fn(i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < CRYPTO_LOOPS; i++) fn(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / CRYPTO_LOOPS;
}

const relayA = new RelayProcess();
const relayB = new RelayProcess();
const homes: CwHome[] = [];
try {
  const env = { CW_MAIL_RATE_SENDER: "100000/100000", CW_MAIL_RATE_RECIPIENT: "100000/100000", CW_NODE_ACCESS: "all" };
  await Promise.all([relayA.start(0, { env }), relayB.start(0, { env })]);
  const hostA = new URL(relayA.url).host;
  const hostB = new URL(relayB.url).host;
  const [alice, bob, carol] = await Promise.all([node(relayA, "alice-box", "alice"), node(relayA, "bob-box", "bob"), node(relayB, "carol-box", "carol")]);
  homes.push(alice, bob, carol);
  const [aliceH, bobH, carolH] = [`alice@${hostA}`, `bob@${hostA}`, `carol@${hostB}`];
  for (const [home, name] of [[bob, "coder"], [bob, "own"], [bob, "sealed"], [carol, "sealed"], [alice, "sender"]] as const) await home.ok(["launch", name, "--", "sleep", "600"]);
  await pair(alice, aliceH, bob, bobH);
  await pair(alice, aliceH, carol, carolH);

  // The person's token `cw setup` wrote (a node's own token may not reach other nodes).
  const userToken = /user_token = "([^"]+)"/.exec(await Bun.file(alice.path("relay.toml")).text())![1]!;
  const pids = {
    alice: alice.nodePid()!,
    "bob/carol": bob.nodePid()!,
    "relay A": relayA.proc!.pid,
    "relay B": relayB.proc!.pid,
  };
  const body = (i: number) => `${BODY} #${i}`;
  const local = () => NodeConnection.open(join(alice.dir, "codewire.sock"));
  const paths: Path[] = [
    {
      name: "plain (relay A)",
      connect: () => NodeConnection.openWebSocket(`${relayA.url.replace("http", "ws")}/api/v1/nodes/bob-box/connect`, userToken, "relay"),
      request: (i) => ({ type: "MsgSend", to: "coder", body: body(i), delivery: "inbox" }),
      to: bob,
      session: "coder",
      pids,
    },
    { name: "own nodes, sealed", connect: local, request: (i) => ({ type: "PeerMsg", to: "node:bob-box", session: "own", body: body(i), from: "sender", kind: "msg", timeout_s: 60 }), to: bob, session: "own", from: `node:alice-box@${hostA}`, pids },
    { name: "sealed, 1 relay", connect: local, request: (i) => ({ type: "PeerMsg", to: bobH, session: "sealed", body: body(i), from: "sender", kind: "msg", timeout_s: 60 }), to: bob, session: "sealed", from: aliceH, pids },
    { name: "sealed, 2 relays", connect: local, request: (i) => ({ type: "PeerMsg", to: carolH, session: "sealed", body: body(i), from: "sender", kind: "msg", timeout_s: 60 }), to: carol, session: "sealed", from: aliceH, pids: { ...pids, "bob/carol": carol.nodePid()! } },
  ];
  const serial: PathResult[] = [];
  for (const p of paths) serial.push(await measure(p, MSGS, 1));
  const burst: PathResult[] = [];
  for (const p of paths) burst.push(await measure(p, BURST, BURST_SENDERS));

  // The identity functions alone, with alice's and bob's own keys.
  const aliceKey = loadOrCreateIdentity(alice.path("identity.pem"));
  const bobKey = loadOrCreateIdentity(bob.path("identity.pem"));
  const to = { handle: bobH, fp: bobKey.fingerprint, x25519: bobKey.x25519 };
  const payload = { kind: "msg", to_session: "sealed", from: null, body: BODY };
  const sample = seal(aliceKey, aliceH, to, payload, { id: "env_bench_000000", seq: 1 });
  const signer = sessionSigner(aliceKey, 7, "sender");
  const part = (i: number) => ({ envelopeId: `env_bench_${String(i).padStart(6, "0")}`, kind: "msg", to: "sealed", body: BODY });
  const proof = proveSession(signer, part(0));
  const crypto = {
    seal: perCall((i) => seal(aliceKey, aliceH, to, payload, { id: `env_bench_${String(i).padStart(6, "0")}`, seq: i + 1 })),
    sign: perCall(() => aliceKey.sign(Buffer.from(BODY))),
    // What a message from a session adds: the session's signature (its key and certificate are made once per session and kept).
    session: perCall((i) => proveSession(signer, part(i))),
    sessionFirst: perCall((i) => sessionSigner(aliceKey, i, "sender")),
    checkSession: perCall(() => sessionProofError(proof, aliceKey.ed25519, { id: 7, name: "sender" }, part(0))),
    verify: perCall(() => signedBy(sample, aliceKey.ed25519)),
    open: perCall(() => open(sample, bobKey)),
    json: perCall(() => JSON.parse(JSON.stringify({ type: "MsgSend", to: "coder", body: BODY }))),
  };

  const cols = Object.keys(pids);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`peer messages, loopback: ${MSGS} messages of ${BODY.length + 5} bytes one after another, per path; then ${BURST} from ${BURST_SENDERS} senders at once`);
  console.log(`${"one at a time".padEnd(18)} ${"msgs/s".padStart(7)} ${"vs plain".padStart(9)} ${"send p50".padStart(9)} ${"send p99".padStart(9)}   CPU µs/msg: ${cols.map((c) => c.padStart(9)).join(" ")}`);
  serial.forEach((r, k) => {
    const cpu = cols.map((c) => r.cpuUs[c]!.toFixed(0).padStart(9)).join(" ");
    console.log(`${paths[k]!.name.padEnd(18)} ${r.perS.toFixed(0).padStart(7)} ${`${((100 * r.perS) / serial[0]!.perS).toFixed(0)}%`.padStart(9)} ${ms(r.p50).padStart(9)} ${ms(r.p99).padStart(9)}               ${cpu}`);
  });
  console.log(`${`${BURST_SENDERS} at once`.padEnd(18)} ${"msgs/s".padStart(7)} ${"vs plain".padStart(9)} ${"send p50".padStart(9)} ${"send p99".padStart(9)} ${"delivered".padStart(10)} ${"refused".padStart(8)}`);
  burst.forEach((r, k) => {
    console.log(`${paths[k]!.name.padEnd(18)} ${r.perS.toFixed(0).padStart(7)} ${`${((100 * r.perS) / burst[0]!.perS).toFixed(0)}%`.padStart(9)} ${ms(r.p50).padStart(9)} ${ms(r.p99).padStart(9)} ${`${r.delivered}/${BURST}`.padStart(10)} ${String(r.refused).padStart(8)}`);
  });
  console.log(`identity functions in process (${CRYPTO_LOOPS} calls each), µs of CPU per call:`);
  console.log(`  sender: seal (X25519 + AES-256-GCM + node's Ed25519 signature) ${crypto.seal.toFixed(0)}, of which sign ${crypto.sign.toFixed(0)}; the session's signature ${crypto.session.toFixed(0)} (its key and certificate, once per session: ${crypto.sessionFirst.toFixed(0)}); signed+sealed in all ${(crypto.seal + crypto.session).toFixed(0)}`);
  console.log(`  recipient: check the node's signature ${crypto.verify.toFixed(0)}; open ${crypto.open.toFixed(0)}; check the session's chain (certificate + signature) ${crypto.checkSession.toFixed(0)}; in all ${(crypto.verify + crypto.open + crypto.checkSession).toFixed(0)}`);
  console.log(`  a plain request's JSON round trip ${crypto.json.toFixed(1)}`);
} finally {
  await Promise.all(homes.map((h) => h.cleanup()));
  await relayA.cleanup();
  await relayB.cleanup();
}
process.exit(0);
