/**
 * Three `cw relay` replicas on one private PostgreSQL behind a real HAProxy (Debian's package),
 * with the compiled binary: HAProxy's health checks on /readyz take each replica in and out,
 * nodes enrolled through HAProxy spread over the replicas and are reached from a client through
 * it, a replica killed with -9 is taken out and its nodes come back on the others, and
 * PostgreSQL restarted under KV writes: every replica says it is not ready while the database is
 * away, and every write that was acknowledged is there afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CwHome, RelayProcess, waitFor } from "./helpers";
import { HaProxy } from "./haproxy";
import { PgCluster } from "./relay-store-pg";

const pg = new PgCluster();
const ADMIN = `admin-${crypto.randomUUID()}`;
const SECRET = `secret-${crypto.randomUUID()}`;
let env: Record<string, string>;
const replicas: Record<string, RelayProcess> = {};
let lb: HaProxy;
/** Nodes enrolled through HAProxy. */
const nodes: Record<string, CwHome> = {};
/** A client whose relay is HAProxy's address. */
let client: CwHome;

async function online(): Promise<Map<string, boolean>> {
  const r = await client.run(["nodes", "--json"]);
  if (r.code !== 0) return new Map();
  return new Map((JSON.parse(r.stdout) as { name: string; connected: boolean }[]).map((n) => [n.name, n.connected]));
}

/** Which replica logged that it holds `node` last (a node moves when its replica dies). */
function holder(node: string): string | undefined {
  let best: { name: string; at: number } | undefined;
  for (const [name, r] of Object.entries(replicas)) {
    const at = r.stderr.lastIndexOf(`node ${node} connected`);
    // Only a replica that still runs holds anything; logs are per start.
    if (at >= 0 && r.proc && (!best || at > best.at)) best = { name, at };
  }
  return best?.name;
}

beforeAll(async () => {
  await pg.start();
  env = { CW_DATABASE_URL: await pg.database(), CW_REPLICA_SECRET: SECRET, CW_REPLICA_HEARTBEAT_MS: "500" };
  for (const name of ["r1", "r2", "r3"]) {
    replicas[name] = new RelayProcess(ADMIN);
    await replicas[name].start(0, { env });
  }
  lb = new HaProxy(Object.fromEntries(Object.entries(replicas).map(([n, r]) => [n, r.port])));
  await lb.start();
  for (const name of Object.keys(replicas)) await lb.waitState(name, "UP");
  client = new CwHome();
  expect(await client.ok(["setup", lb.url, "--token", ADMIN, "--name", "ctl"])).toContain("connected");
}, 90_000);

afterAll(async () => {
  for (const n of Object.values(nodes)) await n.cleanup();
  await client?.cleanup();
  await lb?.stop();
  for (const r of Object.values(replicas)) await r.cleanup();
  await pg.stop();
});

describe("three replicas behind HAProxy", () => {
  test("HAProxy's health checks on /readyz take all three in", async () => {
    for (const name of Object.keys(replicas)) await lb.waitState(name, "UP");
  });

  test("nodes enrolled through HAProxy spread over the replicas; a client through HAProxy reaches each", async () => {
    for (let i = 1; i <= 6; i++) {
      const home = new CwHome();
      nodes[`n${i}`] = home;
      expect(await home.ok(["setup", lb.url, "--token", ADMIN, "--name", `n${i}`])).toContain("connected");
    }
    const held = await waitFor(() => {
      const h = Object.keys(nodes).map(holder);
      return h.every(Boolean) ? h : undefined;
    }, "every node held by a replica");
    // Round robin over three: the six land on more than one replica.
    expect(new Set(held).size).toBeGreaterThan(1);
    await waitFor(async () => {
      const seen = await online();
      return Object.keys(nodes).every((n) => seen.get(n) === true);
    }, "cw nodes through HAProxy to show all six online");
    for (const [name, home] of Object.entries(nodes)) {
      await home.launch(["sleep", "600"], ["--name", `on-${name}`]);
      // Each call lands on whichever replica HAProxy picks, and is piped to the holder.
      const sessions = JSON.parse(await client.ok(["list", name, "--json"])) as { name: string | null }[];
      expect(sessions.map((s) => s.name)).toContain(`on-${name}`);
    }
  }, 90_000);

  test("kill -9 a replica: HAProxy takes it out, its nodes come back on the others, nothing stored is lost; restarted, it is taken back in", async () => {
    await client.ok(["kv", "set", "before-kill", "kept"]);
    // The replica holding the most nodes.
    const counts = new Map<string, string[]>();
    for (const n of Object.keys(nodes)) counts.set(holder(n)!, [...(counts.get(holder(n)!) ?? []), n]);
    const [victim, itsNodes] = [...counts].sort((x, y) => y[1].length - x[1].length)[0]!;
    const r = replicas[victim]!;
    const port = r.port;
    const t0 = Date.now();
    r.proc!.kill("SIGKILL");
    await r.proc!.exited;
    r.proc = undefined;
    await lb.waitState(victim, "DOWN");
    await waitFor(async () => {
      const seen = await online();
      return itsNodes.every((n) => seen.get(n) === true && holder(n) !== undefined) ? true : undefined;
    }, `${itsNodes.join(", ")} back through HAProxy`, 30_000, 100);
    const backS = (Date.now() - t0) / 1000;
    // Backoff with jitter starts at 1 s; three heartbeats (1.5 s) mark the dead replica's nodes offline.
    expect(backS).toBeLessThan(30);
    expect((await client.ok(["kv", "get", "before-kill"])).trim()).toBe("kept");
    for (const n of itsNodes) expect((JSON.parse(await client.ok(["list", n, "--json"])) as { name: string | null }[]).map((s) => s.name)).toContain(`on-${n}`);

    await r.start(port, { env });
    await lb.waitState(victim, "UP");
  }, 90_000);

  test("PostgreSQL restarted under KV writes: every replica is not ready while it is away, HAProxy takes them out and back, every acknowledged write is kept", async () => {
    const acked = new Map<string, string>();
    let failed = 0;
    let stop = false;
    const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}-${i}`;
        const value = `value-${w}-${i}`;
        try {
          const res = await fetch(`${lb.url}/api/v1/kv/load/${key}`, { method: "PUT", headers, body: JSON.stringify({ value }), signal: AbortSignal.timeout(5_000) });
          await res.arrayBuffer();
          if (res.status === 200) {
            acked.set(key, value);
            continue;
          }
        } catch {
          // Refused or cut: counted as a failure below.
        }
        failed++;
        // While everything answers 503 at once, do not spin the machine's two cores.
        await Bun.sleep(20);
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    try {
      await waitFor(() => acked.size >= 100, "writes acknowledged before the restart", 20_000);
      await pg.halt();
      let down = false;
      try {
        // Each replica, asked directly, says why it is not ready.
        for (const r of Object.values(replicas)) {
          await waitFor(async () => (await r.api("GET", "/readyz")).status === 503, `${r.url} to say it is not ready`, 15_000, 100);
          expect((await r.api("GET", "/readyz")).json.error).toBe("unavailable");
        }
        for (const name of Object.keys(replicas)) await lb.waitState(name, "DOWN");
        down = true;
      } finally {
        await pg.start();
      }
      expect(down).toBe(true);
      const before = acked.size;
      for (const r of Object.values(replicas)) await waitFor(async () => (await r.api("GET", "/readyz")).status === 200, `${r.url} ready again`, 30_000, 100);
      for (const name of Object.keys(replicas)) await lb.waitState(name, "UP");
      await waitFor(() => acked.size >= before + 100, "writes acknowledged after the restart", 20_000);
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    expect(failed).toBeGreaterThan(0);
    // Every write that was acknowledged, wherever it landed, is in the database.
    const missing: string[] = [];
    for (const [key, value] of acked) {
      const res = await fetch(`${lb.url}/api/v1/kv/load/${key}`, { headers });
      const got = res.status === 200 ? ((await res.json()) as { entry: { value: string } }).entry.value : `status ${res.status}`;
      if (got !== value) missing.push(`${key}: ${got}`);
    }
    expect(missing).toEqual([]);
    // The nodes are online again everywhere.
    await waitFor(async () => {
      const seen = await online();
      return Object.keys(nodes).every((n) => seen.get(n) === true);
    }, "every node online after the restart", 30_000, 200);
  }, 120_000);
});
