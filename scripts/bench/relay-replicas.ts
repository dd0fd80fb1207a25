/**
 * `bun scripts/bench/relay-replicas.ts` (issue 17): relay replicas on one PostgreSQL.
 *
 * 1. KV ops/s: 64 HTTP clients (64-byte values, 1000 keys, sets then gets, as relay-kv.ts) on a
 *    SQLite relay, then on 1, 2 and 3 PostgreSQL replicas (client c talks to replica c mod n),
 *    in turns, BENCH_ROUNDS times (default 3): each round's PostgreSQL rates are divided by the
 *    same round's SQLite rate, so a machine that slows down meets both alike.
 * 2. Remote echo p50/p99: a node connected to replica 1; keystrokes through replica 1 (1
 *    replica) or through replica 2 or 3, piped to replica 1 (2, 3 replicas).
 * 3. One replica holding BENCH_NODES simulated nodes (default 10,000; agents' WebSockets from
 *    this process, each with its own registered token): the relay's RSS, `cw nodes` wall time,
 *    and the reconnect storm after the relay is restarted (each node retries as the agent does:
 *    1 s backoff doubling to 30 s, equal jitter) until every node is connected again.
 * Targets: KV on PostgreSQL >= half the SQLite relay's; 10,000 nodes < 512 MiB; storm < 60 s.
 * PostgreSQL is a private cluster (test/relay-store-pg.ts) with fsync off, on this machine.
 */
import { NodeConnection } from "../../src/client/connection";
import { jittered } from "../../src/node/relay-agent";
import { CW, CwHome, RelayProcess } from "../../test/helpers";
import { PgCluster } from "../../test/relay-store-pg";
import { ECHO_PROGRAM } from "./latency";
import { protocolEcho } from "./protocol-echo";
import { median, quantile, rssBytes, run } from "./util";

const CLIENTS = 64;
const KEYS = 1000;
const VALUE = "v".repeat(64);
const OPS = Number(process.env.BENCH_KV_OPS) > 0 ? Math.ceil(Number(process.env.BENCH_KV_OPS) / CLIENTS) * CLIENTS : 12_800;
const ROUNDS = Number(process.env.BENCH_ROUNDS) > 0 ? Number(process.env.BENCH_ROUNDS) : 3;
const NODES = Number(process.env.BENCH_NODES) > 0 ? Number(process.env.BENCH_NODES) : 10_000;
const SAMPLES = Number(process.env.BENCH_SAMPLES) > 0 ? Number(process.env.BENCH_SAMPLES) : 200;
const ADMIN = `bench-${crypto.randomUUID()}`;
const SECRET = `bench-secret-${crypto.randomUUID()}`;
const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
const keyOf = (c: number, i: number) => `key:${String((c * 7919 + i * 31) % KEYS).padStart(6, "0")}`;

/** Sets then gets through `relays` (client c on relays[c % n]); ops/s of each phase. */
async function kv(relays: RelayProcess[], ns: string): Promise<{ set: number; get: number }> {
  const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
  const body = JSON.stringify({ value: VALUE });
  const phase = async (op: "set" | "get") => {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const base = relays[c % relays.length]!.url;
        for (let i = 0; i < OPS / CLIENTS; i++) {
          const url = `${base}/api/v1/kv/${ns}/${keyOf(c, i)}`;
          const res = op === "set" ? await fetch(url, { method: "PUT", headers, body }) : await fetch(url, { headers });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`${op} answered ${res.status}`);
        }
      }),
    );
    return OPS / ((performance.now() - t0) / 1000);
  };
  return { set: await phase("set"), get: await phase("get") };
}

async function echo(url: string, id: number): Promise<number[]> {
  const conn = await NodeConnection.openWebSocket(`${url.replace("http", "ws")}/api/v1/nodes/bench/connect`, ADMIN, "relay");
  conn.send({ type: "Attach", id, history: false, cols: 80, rows: 24 });
  if ((await conn.nextReply())?.type !== "Attached") throw new Error("attach failed");
  const lat = await protocolEcho(conn, 20, SAMPLES);
  conn.close();
  return lat;
}

/** A simulated node: its agent's WebSocket, reconnected as relay-agent.ts does. */
class FakeNode {
  ws?: WebSocket;
  open = false;
  private backoff = 1000;
  stopped = false;
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly onChange: (d: number) => void,
  ) {}
  connect(): void {
    const ws = new WebSocket(`${this.url.replace("http", "ws")}/node/connect`, { headers: { authorization: `Bearer ${this.token}` } } as unknown as string[]);
    this.ws = ws;
    ws.onopen = () => {
      this.open = true;
      this.backoff = 1000;
      this.onChange(1);
    };
    ws.onclose = () => {
      if (this.open) this.onChange(-1);
      this.open = false;
      if (this.stopped) return;
      const wait = jittered(this.backoff);
      this.backoff = Math.min(30_000, this.backoff * 2);
      setTimeout(() => this.connect(), wait);
    };
  }
  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
  return performance.now() - t0;
}

const pg = new PgCluster();
const started: RelayProcess[] = [];
const homes: CwHome[] = [];
async function relay(env: Record<string, string>): Promise<RelayProcess> {
  const r = new RelayProcess(ADMIN);
  started.push(r);
  await r.start(0, { env });
  return r;
}

try {
  await pg.start();
  const pgEnv = { CW_DATABASE_URL: await pg.database(), CW_REPLICA_SECRET: SECRET, CW_REPLICA_HEARTBEAT_MS: "1000" };
  const sqlite = await relay({});
  const replicas = [await relay(pgEnv), await relay(pgEnv), await relay(pgEnv)];

  // 1. KV, in turns.
  const rows: Record<string, { set: number[]; get: number[]; mix: number[]; ratio: number[] }> = {};
  const add = (name: string, r: { set: number; get: number }, base?: number) => {
    const row = (rows[name] ??= { set: [], get: [], mix: [], ratio: [] });
    const mix = 2 / (1 / r.set + 1 / r.get);
    row.set.push(r.set);
    row.get.push(r.get);
    row.mix.push(mix);
    row.ratio.push(base ? mix / base : 1);
    return mix;
  };
  for (let round = 0; round < ROUNDS; round++) {
    const base = add("sqlite, 1 relay", await kv([sqlite], `b${round}`));
    for (const n of [1, 2, 3]) add(`postgres, ${n} replica${n > 1 ? "s" : ""}`, await kv(replicas.slice(0, n), `b${round}n${n}`), base);
  }
  console.log(`relay KV, ${CLIENTS} clients, ${OPS} sets then ${OPS} gets, ${ROUNDS} rounds (medians; ratio: mix / the same round's SQLite mix)`);
  console.log(`${"store".padEnd(22)} ${"set/s".padStart(8)} ${"get/s".padStart(8)} ${"mix/s".padStart(8)} ${"vs sqlite".padStart(10)}  rounds' ratios`);
  for (const [name, r] of Object.entries(rows)) {
    console.log(`${name.padEnd(22)} ${median(r.set).toFixed(0).padStart(8)} ${median(r.get).toFixed(0).padStart(8)} ${median(r.mix).toFixed(0).padStart(8)} ${median(r.ratio).toFixed(2).padStart(10)}  ${r.ratio.map((x) => x.toFixed(2)).join(" ")}`);
  }

  // 2. Echo through 1, 2, 3 replicas.
  const node = new CwHome();
  homes.push(node);
  await node.ok(["setup", replicas[0]!.url, "--token", ADMIN, "--name", "bench"]);
  const id = await node.launch(ECHO_PROGRAM);
  console.log(`\nremote echo, ${SAMPLES} keys, node on replica 1 (keys 35-85 ms apart)`);
  console.log(`${"client on".padEnd(22)} ${"p50".padStart(9)} ${"p99".padStart(9)}`);
  for (const [name, r] of [["replica 1 (1 replica)", replicas[0]!], ["replica 2 (piped)", replicas[1]!], ["replica 3 (piped)", replicas[2]!]] as const) {
    const lat = await echo(r.url, id);
    console.log(`${name.padEnd(22)} ${us(quantile(lat, 0.5)).padStart(9)} ${us(quantile(lat, 0.99)).padStart(9)}`);
  }
  await node.cleanup();

  // 3. One replica (a fresh database) with NODES simulated nodes.
  for (const r of started.splice(0)) await r.cleanup();
  const scaleEnv = { CW_DATABASE_URL: await pg.database(), CW_REPLICA_SECRET: SECRET };
  const one = await relay(scaleEnv);
  const port = one.port;
  const rss0 = rssBytes(one.proc!.pid);
  const tokens: string[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async (_, w) => {
      for (let i = w; i < NODES; i += 32) {
        const r = await one.api("POST", "/api/v1/nodes", { name: `sim-${i}` });
        if (r.status !== 200 && r.status !== 201) throw new Error(`register answered ${r.status}: ${JSON.stringify(r.json)}`);
        tokens[i] = r.json.token;
      }
    }),
  );
  const registerS = (performance.now() - t0) / 1000;
  let open = 0;
  const sims = tokens.map((t) => new FakeNode(one.url, t, (d) => (open += d)));
  const t1 = performance.now();
  // A few hundred handshakes at a time, as nodes starting over minutes would.
  for (let i = 0; i < sims.length; i += 250) {
    for (const s of sims.slice(i, i + 250)) s.connect();
    await until("a batch to connect", () => open >= Math.min(i + 250, sims.length) * 0.98, 60_000);
  }
  await until("every node connected", () => open === NODES, 120_000);
  const connectS = (performance.now() - t1) / 1000;
  const client = new CwHome();
  homes.push(client);
  await client.ok(["setup", one.url, "--token", ADMIN, "--name", "ctl"]);
  // Memory is read once the connecting is over and the relay has settled.
  await Bun.sleep(2000);
  const rssN = rssBytes(one.proc!.pid);
  const listMs: number[] = [];
  let listed = 0;
  for (let i = 0; i < 5; i++) {
    const r = run([CW, "nodes", "--json"], { env: client.env });
    listMs.push(r.ms);
    listed = (JSON.parse(r.stdout) as { connected: boolean }[]).filter((n) => n.connected).length;
  }
  // The storm: the relay restarts; every node comes back by itself.
  const t2 = performance.now();
  await one.stop();
  await until("every node to notice", () => open === 0, 60_000);
  await one.start(port, { env: scaleEnv });
  const upMs = performance.now() - t2;
  const stormMs = (await until("every node back", () => open === NODES, 300_000)) + upMs;
  const rssStorm = rssBytes(one.proc!.pid);
  for (const s of sims) s.stop();

  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  console.log(`\none replica (PostgreSQL) holding ${NODES} simulated nodes`);
  console.log(`registered in ${registerS.toFixed(1)} s; all connected in ${connectS.toFixed(1)} s (250 at a time)`);
  console.log(`relay RSS: ${mib(rss0)} idle -> ${mib(rssN)} with ${NODES} nodes (${((rssN - rss0) / NODES / 1024).toFixed(1)} KiB a node; target < 512 MiB); after the storm ${mib(rssStorm)}`);
  console.log(`cw nodes --json (${listed} online): median ${median(listMs).toFixed(0)} ms, max ${Math.max(...listMs).toFixed(0)} ms`);
  console.log(`reconnect storm: relay stopped and started again in ${(upMs / 1000).toFixed(1)} s; all ${NODES} back ${(stormMs / 1000).toFixed(1)} s after the stop (target < 60 s)`);
} finally {
  for (const h of homes) await h.cleanup().catch(() => {});
  for (const r of started) await r.cleanup().catch(() => {});
  await pg.stop();
}
process.exit(0);
