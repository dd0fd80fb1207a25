/**
 * `bun scripts/bench/remote.ts`: what reaching a node remotely costs, against the Unix socket.
 * One node, reached three ways by a protocol client in this process:
 *
 *   socket  — the node's Unix socket (what every local command uses)
 *   ws      — the node's own WebSocket listener (`cw --server`)
 *   relay   — a `cw relay` on this machine, the node connected to it (`cw attach node:id`)
 *
 * For each: keystroke echo round trips through an attached `stty raw -echo; exec cat` session
 * (p50/p99, keys 35-85 ms apart), and the rate of reading a 24 MiB session log (`cw logs`).
 * Everything is on loopback, so this is the software's cost, not a network's.
 * BENCH_SAMPLES sets the number of keys (default 300).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { NodeConnection } from "../../src/client/connection";
import { ECHO_PROGRAM } from "./latency";
import { protocolEcho } from "./protocol-echo";
import { Cw } from "./subjects";
import { quantile, run } from "./util";

const samples = Number(process.env.BENCH_SAMPLES) > 0 ? Number(process.env.BENCH_SAMPLES) : 300;
const WARMUP = 20;
const LOG_MIB = 24; // under the default log cap, so the whole output is still there
const us = (ms: number) => `${Math.round(ms * 1000)} µs`;

async function echo(conn: NodeConnection, id: number): Promise<number[]> {
  conn.send({ type: "Attach", id, history: false, cols: 80, rows: 24 });
  const first = await conn.nextReply();
  if (first?.type !== "Attached") throw new Error(`attach failed: ${JSON.stringify(first)}`);
  await Bun.sleep(200);
  const lat = await protocolEcho(conn, WARMUP, samples);
  conn.close();
  return lat;
}

async function readLog(conn: NodeConnection, id: number): Promise<number> {
  const t0 = performance.now();
  conn.send({ type: "Logs", id, follow: false });
  let bytes = 0;
  for (;;) {
    const f = await conn.next();
    if (!f) break;
    if (f.kind === "data") bytes += f.bytes.length;
    else if ((f.message as { type?: string }).type === "StreamEnd") break;
  }
  conn.close();
  if (bytes < LOG_MIB * 1024 * 1024) throw new Error(`read ${bytes} bytes of the log, expected ${LOG_MIB} MiB`);
  return bytes / 1024 / 1024 / ((performance.now() - t0) / 1000);
}

const bin = resolve(process.env.BENCH_CW || join(import.meta.dir, "../../dist/cw"));
const root = mkdtempSync(join(os.tmpdir(), "cw-bench-remote-"));
const admin = `bench-${Math.random().toString(36).slice(2)}`;
const cw = new Cw(bin, join(root, "node"));
process.env.CODEWIRE_LISTEN = "127.0.0.1:0";
let relay: ReturnType<typeof Bun.spawn> | undefined;
try {
  cw.start();
  const wsPort = /ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(readFileSync(join(cw.home, "node.log"), "utf8"))?.[1];
  const token = readFileSync(join(cw.home, "token"), "utf8").trim();
  relay = Bun.spawn([bin, "relay", "--listen", "127.0.0.1:0", "--ssh-listen", "off", "--data-dir", join(root, "relay")], { env: { ...process.env, CW_AUTH_TOKEN: admin }, stderr: "pipe", stdout: "ignore" });
  let relayLog = "";
  const reader = (relay.stderr as ReadableStream<Uint8Array>).getReader();
  while (!/listening on (http:\/\/\S+)/.test(relayLog)) relayLog += new TextDecoder().decode((await reader.read()).value);
  const relayUrl = /listening on (http:\/\/\S+)/.exec(relayLog)![1]!;
  run([bin, "setup", relayUrl, "--token", admin, "--name", "bench"], { env: cw.env() });
  const relayToken = /token = "([^"]+)"/.exec(readFileSync(join(cw.home, "relay.toml"), "utf8"))![1]!;

  const ways: Record<string, () => Promise<NodeConnection>> = {
    socket: () => cw.connect(),
    ws: () => NodeConnection.openWebSocket(`ws://127.0.0.1:${wsPort}/ws`, token, "ws"),
    relay: () => NodeConnection.openWebSocket(`${relayUrl.replace("http", "ws")}/api/v1/nodes/bench/connect`, relayToken, "relay"),
  };
  const session = await cw.launch(ECHO_PROGRAM);
  const big = await cw.launch(["sh", "-c", `head -c ${LOG_MIB * 1024 * 1024} /dev/zero | tr '\\0' 'x' | fold -w 99`]);
  while (JSON.parse(run([bin, "status", String(big.id), "--json"], { env: cw.env() }).stdout).status === "running") await Bun.sleep(100);

  console.log(`remote access, ${samples} keys each, ${LOG_MIB} MiB log read (loopback)`);
  console.log(`${"path".padEnd(8)} ${"echo p50".padStart(10)} ${"echo p99".padStart(10)} ${"log read".padStart(12)}`);
  for (const [name, open] of Object.entries(ways)) {
    const lat = await echo(await open(), session.id);
    const rate = await readLog(await open(), big.id);
    console.log(`${name.padEnd(8)} ${us(quantile(lat, 0.5)).padStart(10)} ${us(quantile(lat, 0.99)).padStart(10)} ${`${rate.toFixed(0)} MiB/s`.padStart(12)}`);
  }
} finally {
  relay?.kill();
  cw.cleanup();
  rmSync(root, { recursive: true, force: true });
}
process.exit(0);
