/**
 * Two `cw relay` replicas on one private PostgreSQL database, serving as one relay, with the
 * compiled binary: a node whose WebSocket is held by replica A is reached by a client on
 * replica B (cw nodes, launch, list, logs, send, kill, attach in tmux with resize), traffic
 * between replicas needs the shared secret, a rotation on B ends the node's connection on A,
 * and when a replica is killed (-9) its nodes come back through a load balancer to the other
 * while an attach piped through it ends saying why. The load balancer is a tiny round-robin TCP
 * proxy here, skipping replicas that refuse connections, as a real one's health checks would.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capture, CW, CwHome, RelayProcess, Tmux, waitFor } from "./helpers";
import { PgCluster } from "./relay-store-pg";

/** Round-robin TCP load balancer over `ports`; a port that refuses is skipped. */
class RoundRobin {
  private listener?: TCPSocketListener<{ up?: Socket<unknown>; pending: Uint8Array[] }>;
  private next = 0;
  constructor(private readonly ports: number[]) {}

  get url(): string {
    return `http://127.0.0.1:${this.listener!.port}`;
  }

  start(): void {
    const lb = this;
    this.listener = Bun.listen<{ up?: Socket<unknown>; pending: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(client) {
          client.data = { pending: [] };
          void lb.connectUpstream(client);
        },
        data(client, bytes) {
          if (client.data.up) write(client.data.up, bytes);
          else client.data.pending.push(new Uint8Array(bytes));
        },
        close(client) {
          client.data.up?.end();
        },
        error() {},
      },
    });
  }

  private async connectUpstream(client: Socket<{ up?: Socket<unknown>; pending: Uint8Array[] }>): Promise<void> {
    for (let tries = 0; tries < this.ports.length; tries++) {
      const port = this.ports[this.next++ % this.ports.length]!;
      try {
        const up = await Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            data: (_s, bytes) => write(client, bytes),
            close: () => {
              client.end();
            },
            error: () => {
              client.end();
            },
          },
        });
        client.data.up = up;
        for (const b of client.data.pending.splice(0)) write(up, b);
        return;
      } catch {
        // Refused: that replica is down; the next one.
      }
    }
    client.end();
  }

  stop(): void {
    this.listener?.stop(true);
  }
}

/** Writes everything (test traffic is small; a short write is retried until taken). */
function write(s: Socket<any>, bytes: Uint8Array): void {
  let rest = bytes;
  while (rest.length > 0) {
    const n = s.write(rest);
    if (n <= 0) {
      s.end();
      return;
    }
    rest = rest.subarray(n);
  }
}

const pg = new PgCluster();
const ADMIN = `admin-${crypto.randomUUID()}`;
const SECRET = `secret-${crypto.randomUUID()}`;
let env: Record<string, string>;
let a: RelayProcess;
let b: RelayProcess;
let lb: RoundRobin;
/** dev-1 is set up on replica A, dev-2 on replica B. */
let dev1: CwHome;
let dev2: CwHome;
let tmux: Tmux | undefined;
const keysDir = mkdtempSync(join(tmpdir(), "cw-replica-keys-"));

async function nodes(from: CwHome): Promise<Map<string, boolean>> {
  const r = await from.run(["nodes", "--json"]);
  if (r.code !== 0) return new Map();
  return new Map((JSON.parse(r.stdout) as { name: string; connected: boolean }[]).map((n) => [n.name, n.connected]));
}

async function online(from: CwHome, name: string, want = true, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await nodes(from)).get(name) === want, `${name} to be ${want ? "online" : "offline"}`, timeoutMs, 100);
}

beforeAll(async () => {
  await pg.start();
  env = { CW_DATABASE_URL: await pg.database(), CW_REPLICA_SECRET: SECRET, CW_REPLICA_HEARTBEAT_MS: "500" };
  a = new RelayProcess(ADMIN);
  b = new RelayProcess(ADMIN);
  await a.start(0, { env, ssh: true });
  await b.start(0, { env, ssh: true });
  lb = new RoundRobin([a.port, b.port]);
  lb.start();
  dev1 = new CwHome();
  dev2 = new CwHome();
  expect(await dev1.ok(["setup", a.url, "--token", ADMIN, "--name", "dev-1"])).toContain("connected");
  expect(await dev2.ok(["setup", b.url, "--token", ADMIN, "--name", "dev-2"])).toContain("connected");
}, 60_000);
afterAll(async () => {
  await tmux?.kill();
  await dev1?.cleanup();
  await dev2?.cleanup();
  lb?.stop();
  await a?.cleanup();
  await b?.cleanup();
  await pg.stop();
  rmSync(keysDir, { recursive: true, force: true });
});
afterEach(async () => {
  await tmux?.kill();
  tmux = undefined;
});

/** A process's resident memory, in bytes. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb ?? 0) * 1024;
}

/** The id out of what a launch on a named node prints: node:id. */
function nodeId(out: string): number {
  return Number(out.trim().split(":").pop());
}

describe("two replicas on one database", () => {
  test("each replica joined the set; cw nodes is right on both", async () => {
    expect(a.stderr).toMatch(/replica \S+ reachable by the others at http:\/\/127\.0\.0\.1:\d+/);
    expect(b.stderr).toMatch(/replica \S+ reachable by the others at/);
    await online(dev2, "dev-1");
    await online(dev1, "dev-2");
    expect(a.stderr).toContain("node dev-1 connected");
    expect(b.stderr).not.toContain("node dev-1 connected");
  });

  test("from replica B: launch, list, logs, send and kill on a node held by A", async () => {
    const id = nodeId((await dev2.ok(["launch", "--node", "dev-1", "--name", "greeter", "--", "bash", "-c", 'echo "hello from $CW_SESSION_NAME"; read l; echo "got $l"'])).trim());
    expect((JSON.parse(await dev2.ok(["list", "dev-1", "--json"])) as { id: number }[]).map((s) => s.id)).toContain(id);
    await waitFor(async () => (await dev2.ok(["logs", `dev-1:${id}`])).includes("hello from greeter"), "the greeting through B");
    await dev2.ok(["send", "dev-1:greeter", "across replicas"]);
    expect((await dev2.run(["wait", `dev-1:${id}`, "--timeout", "10"])).code).toBe(0);
    expect(await dev2.ok(["logs", "dev-1:greeter"])).toContain("got across replicas");
    const sleeper = nodeId(await dev2.ok(["launch", "dev-1:sleeper", "--", "sleep", "60"]));
    await dev2.ok(["kill", `dev-1:${sleeper}`]);
    await dev1.waitStatus(sleeper, "killed");
  });

  test("attach from B to a shell on A in tmux: keys, the echo, and a resize", async () => {
    await dev1.launch(["bash", "--norc", "--noprofile"], ["--name", "far-shell"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach dev-1:far-shell`, dev2.env);
    await tmux.type("echo relayed-$((40+2))");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("relayed-42"), "the echo through two replicas");
    await tmux.cmd("resize-window", "-t", "t", "-x", "72", "-y", "20");
    await tmux.type("stty size");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("20 72"), "the new size on the far node");
    await tmux.keys("C-b", "d");
    expect(await tmux.waitScreen((s) => s.includes("[exit 0]"), "attach to end")).toContain("detached from session");
  });

  test("ssh through B's gateway runs a command on the node held by A; both gateways show one host key", async () => {
    const key = join(keysDir, "k");
    expect(Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]).exitCode).toBe(0);
    // On PostgreSQL nothing else is kept in the data dir: authorized_keys is the operator's to put there.
    mkdirSync(b.dataDir, { recursive: true });
    writeFileSync(join(b.dataDir, "authorized_keys"), readFileSync(`${key}.pub`));
    const opts = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", key, "-p", String(b.sshPort)];
    const env = { ...(process.env as Record<string, string>) };
    delete env.SSH_AUTH_SOCK;
    const p = Bun.spawn(["ssh", ...opts, "dev-1@127.0.0.1", "echo out-$((20+1)) from $CW_SESSION_ID; exit 3"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(`${out}${err}`).toContain("out-21 from");
    expect(code).toBe(3);
    const hostKeys = [a.sshPort, b.sshPort].map((port) => Bun.spawnSync(["ssh-keyscan", "-t", "ed25519", "-p", String(port), "127.0.0.1"]).stdout.toString().split(" ").at(-1)!.trim());
    expect(hostKeys[0]!.length).toBeGreaterThan(40);
    expect(hostKeys[0]).toBe(hostKeys[1]!);
  });

  test("a follower on B that stops reading is paused at the node on A: neither replica buffers the flood, nothing is lost", async () => {
    // ~170 MB of numbered lines: far beyond socket buffers, the replicas' windows and their
    // 64 MiB per-socket limit. The node keeps all of it (a follower behind the kept part of a
    // log is ended, by design), so nothing may be missing.
    const lines = 20_000_000;
    const dev6 = new CwHome({ CODEWIRE_LOG_MAX_MIB: "512" });
    const follower = { proc: undefined as ReturnType<typeof Bun.spawn> | undefined };
    try {
      await dev6.ok(["setup", a.url, "--token", ADMIN, "--name", "dev-6"]);
      await online(dev2, "dev-6");
      const id = nodeId(await dev2.ok(["launch", "--node", "dev-6", "--name", "flood", "--no-pty", "--", "bash", "-c", `read go; seq 1 ${lines}`]));
      const proc = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "ws-follower.ts"), b.url, ADMIN, "dev-6", String(id)], { stdout: "pipe", stderr: "pipe" });
      follower.proc = proc;
      const out = new Response(proc.stdout as ReadableStream<Uint8Array>).text();
      const err = capture(proc.stderr as ReadableStream<Uint8Array>);
      // Its request is on the wire once it says so; B and A pass it on while it is stopped.
      await waitFor(() => err.text.includes("following"), "the follower to connect through B");
      proc.kill("SIGSTOP");
      const base = { a: rss(a.proc!.pid), b: rss(b.proc!.pid) };
      const peak = { ...base };
      await dev2.ok(["send", "dev-6:flood", "go"]);
      const sampler = setInterval(() => {
        peak.a = Math.max(peak.a, rss(a.proc!.pid));
        peak.b = Math.max(peak.b, rss(b.proc!.pid));
      }, 50);
      try {
        await dev6.waitStatus(id, "completed", 60_000);
        // What is still on its way to either replica lands after the session ends: watch until
        // neither has grown for a second.
        let seen = { ...peak };
        let still = Date.now();
        await waitFor(() => {
          if (peak.a !== seen.a || peak.b !== seen.b) [seen, still] = [{ ...peak }, Date.now()];
          return Date.now() - still > 1000;
        }, "the replicas' memory to settle", 15_000, 100);
      } finally {
        clearInterval(sampler);
      }
      proc.kill("SIGCONT");
      const got = JSON.parse((await out).trim()) as { lines: number; last: number; gaps: number; first_gap: string | null };
      expect(got).toEqual({ lines, last: lines, gaps: 0, first_gap: null });
      // The bounded queue: a relay closes any socket holding over 64 MiB, so a follower that got
      // every line was never that far behind on either replica (before flow control between
      // replicas, B's socket to it passed Bun's 16 MiB and the stream was cut at ~2.8M lines).
      // What B holds is the 1 MiB mark, the 4 MiB window, and what was in flight on two TCP
      // hops when the node was paused: 15-38 MB measured. Resident memory, with the garbage of
      // what passed through, grew 7-50 MiB on A and 14-114 MiB on B over 16 runs: a coarse
      // check that neither kept the 170 MB flood.
      const growth = { a: Math.round((peak.a - base.a) / 1024 / 1024), b: Math.round((peak.b - base.b) / 1024 / 1024) };
      expect({ ...growth, bounded: growth.a < 160 && growth.b < 160 }).toMatchObject({ bounded: true });
    } finally {
      follower.proc?.kill("SIGCONT");
      follower.proc?.kill();
      await dev6.cleanup();
    }
  }, 120_000);

  test("cw kv set --if-absent raced by 16 processes through both replicas: exactly one wins", async () => {
    const runs = Array.from({ length: 16 }, (_, i) => (i % 2 ? dev1 : dev2).run(["kv", "set", "--if-absent", "--ttl", "60s", "replica-lock", `owner-${i}`]));
    const results = await Promise.all(runs);
    const winners = results.flatMap((r, i) => (r.code === 0 ? [`owner-${i}`] : []));
    expect(winners.length).toBe(1);
    for (const r of results) if (r.code !== 0) expect(r.stderr).toContain("already set");
    expect((await dev1.ok(["kv", "get", "replica-lock"])).trim()).toBe(winners[0]!);
    expect((await dev2.ok(["kv", "get", "replica-lock"])).trim()).toBe(winners[0]!);
  });

  test("the web app: a browser signed in on A is signed in on B, a code shown on A is approved on B, signing out on B ends it on A", async () => {
    // As a browser would send them: the Origin of the page (the replica it reached), the cookie.
    const web = (r: RelayProcess, path: string, opts: { cookie?: string; csrf?: string; body?: unknown } = {}) =>
      fetch(`${r.url}${path}`, {
        method: opts.body === undefined ? "GET" : "POST",
        headers: { origin: r.url, "content-type": "application/json", ...(opts.cookie ? { cookie: `cw_session=${opts.cookie}` } : {}), ...(opts.csrf ? { "x-csrf-token": opts.csrf } : {}) },
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
    const cookieOf = (res: Response) => /cw_session=([^;]*)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
    const signedIn = await web(a, "/web/signin", { body: { token: ADMIN } });
    expect(signedIn.status).toBe(200);
    const cookie = cookieOf(signedIn)!;
    const onB = await web(b, "/web/me", { cookie });
    expect(onB.status).toBe(200);
    const { csrf } = (await onB.json()) as { csrf: string };
    expect(((await (await web(b, "/web/nodes", { cookie })).json()) as { nodes: { name: string }[] }).nodes.map((n) => n.name)).toContain("dev-1");

    // A second browser asks A for a code; the person signed in approves it on B; A lets it in.
    const started = (await (await web(a, "/web/signin/code", { body: {} })).json()) as { user_code: string; poll_id: string };
    expect((await web(a, "/web/signin/code/poll", { body: { poll_id: started.poll_id } })).status).toBe(202);
    expect((await web(b, "/web/signin/approve", { cookie, csrf, body: { user_code: started.user_code } })).status).toBe(200);
    const second = await web(a, "/web/signin/code/poll", { body: { poll_id: started.poll_id } });
    expect(second.status).toBe(200);
    expect((await web(b, "/web/me", { cookie: cookieOf(second)! })).status).toBe(200);

    expect((await web(b, "/web/signout", { cookie, csrf, body: {} })).status).toBe(200);
    expect((await web(a, "/web/me", { cookie })).status).toBe(401);
    expect((await web(b, "/web/me", { cookie })).status).toBe(401);
  });

  test("settings that cannot make a replica are refused with a hint (exit 2)", async () => {
    const run = (extra: Record<string, string>, listen = "127.0.0.1:0") => dev1.run(["relay", "--listen", listen, "--ssh-listen", "off"], { env: { CW_DATABASE_URL: "", ...extra } });
    const sqlite = await run({ CW_REPLICA_SECRET: SECRET });
    expect([sqlite.code, sqlite.stderr]).toEqual([2, expect.stringContaining("hint: replicas share one PostgreSQL database")]);
    const short = await run({ CW_REPLICA_SECRET: "short", CW_DATABASE_URL: env.CW_DATABASE_URL! });
    expect([short.code, short.stderr]).toEqual([2, expect.stringContaining("CW_REPLICA_SECRET is shorter than 24 characters")]);
    const anywhere = await run({ CW_REPLICA_SECRET: SECRET, CW_DATABASE_URL: env.CW_DATABASE_URL! }, "0.0.0.0:0");
    expect([anywhere.code, anywhere.stderr]).toEqual([2, expect.stringContaining("hint: set CW_REPLICA_URL")]);
  });

  test("the internal endpoint admits only the shared secret", async () => {
    const path = "/internal/v1/nodes/dev-1/connect";
    for (const authorization of [undefined, `Bearer ${ADMIN}`, "Replica wrong-secret-wrong-secret-wrong", `Replica ${SECRET}x`]) {
      const res = await fetch(`${a.url}${path}`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
    }
    // With the secret it is a WebSocket endpoint (here asked without upgrading).
    const ok = await fetch(`${a.url}${path}`, { headers: { authorization: `Replica ${SECRET}`, upgrade: "websocket", connection: "upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" } });
    expect(ok.status).toBe(101);
    // A malformed name, even from a replica, is an answer, not a failure of the relay.
    const bad = await fetch(`${a.url}/internal/v1/nodes/%E0%A4%A/connect`, { headers: { authorization: `Replica ${SECRET}` } });
    expect(bad.status).toBe(503);
    expect(((await bad.json()) as { error: string }).error).toBe("node_offline");
  });

  test("a token rotated on B ends the node's connection on A", async () => {
    const dev3 = new CwHome();
    try {
      await dev3.ok(["setup", a.url, "--token", ADMIN, "--name", "dev-3"]);
      await online(dev2, "dev-3");
      const r = await b.api("POST", "/api/v1/nodes", { name: "dev-3" });
      expect(r.json.rotated).toBe(true);
      // Only A held the connection made with the old token: B's word reached it (NOTIFY).
      await online(dev2, "dev-3", false);
      await online(dev1, "dev-3", false);
    } finally {
      await dev3.cleanup();
    }
  });

  test("a node that leaves while the database is away is offline everywhere once it is back", async () => {
    const dev5 = new CwHome();
    try {
      await dev5.ok(["setup", a.url, "--token", ADMIN, "--name", "dev-5"]);
      await online(dev2, "dev-5");
      await pg.halt();
      try {
        // A cannot record that dev-5 left: its write fails, and is redone at a later heartbeat.
        await dev5.ok(["stop"]);
        await waitFor(() => a.stderr.includes("cannot record node dev-5 as gone"), "replica A to fail to record dev-5 gone", 15_000, 100);
      } finally {
        await pg.start();
      }
      await waitFor(async () => (await a.api("GET", "/readyz")).status === 200 && (await b.api("GET", "/readyz")).status === 200, "both replicas ready again", 30_000, 200);
      await online(dev2, "dev-5", false, 20_000);
      await online(dev1, "dev-1", true);
      await online(dev2, "dev-1", true);
    } finally {
      await dev5.cleanup();
    }
  }, 90_000);

  test("kill -9 a replica: its nodes come back through the load balancer, an attach piped through the survivor ends saying why", async () => {
    const dev4 = new CwHome();
    try {
      // Enrolled through the load balancer: it lands on either replica.
      expect(await dev4.ok(["setup", lb.url, "--token", ADMIN, "--name", "dev-4"])).toContain("connected");
      const holder = await waitFor(() => (a.stderr.includes("node dev-4 connected") ? a : b.stderr.includes("node dev-4 connected") ? b : undefined), "a replica to hold dev-4");
      const survivor = holder === a ? b : a;
      // A client whose relay is the survivor, attached to dev-4 (piped to the holder).
      const viewer = survivor === a ? dev1 : dev2;
      await online(viewer, "dev-4");
      await dev4.launch(["bash", "--norc", "--noprofile"], ["--name", "doomed-view"]);
      await dev4.ok(["kv", "set", "kept", "yes"]);
      tmux = new Tmux();
      await tmux.start(`${CW} attach dev-4:doomed-view`, viewer.env);
      await tmux.type("echo before-$((1+1))");
      await tmux.keys("Enter");
      await tmux.waitScreen((s) => s.includes("before-2"), "the attach through the survivor");

      holder.proc!.kill("SIGKILL");
      await holder.proc!.exited;
      const screen = (await tmux.waitScreen((s) => s.includes("[exit"), "the attach to end")).replace(/\s+/g, " ");
      expect(screen).toContain("the relay replica holding node dev-4 went away; the node reconnects to another in seconds");
      expect(screen).toContain("[exit 1]");

      // dev-4 reconnects (backoff with jitter) through the load balancer, to the survivor.
      await online(viewer, "dev-4", true, 30_000);
      await waitFor(() => survivor.stderr.includes("node dev-4 connected"), "dev-4 on the survivor");
      expect((await viewer.ok(["kv", "get", "kept"])).trim()).toBe("yes");
      expect((JSON.parse(await viewer.ok(["list", "dev-4", "--json"])) as { name?: string }[]).some((s) => s.name === "doomed-view")).toBe(true);
    } finally {
      await dev4.cleanup();
    }
  }, 60_000);
});
