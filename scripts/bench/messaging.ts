/**
 * Messaging throughput and latency at the protocol level (no process spawn per message):
 *  - messages per second through MsgSend, one connection per message as the MCP server's tools
 *    and the client library's call() do (and cw msg, after starting a process: measured apart,
 *    cw_msg_per_s_8_in_flight, since a process start costs more than the message itself),
 *    sequentially and with 8 in flight (each on disk before its sender hears MsgSent, so the
 *    disk's flush time bounds both: 8 in flight share one flush at best);
 *  - the message store alone, in this process, 8 messages at a time (what durability costs,
 *    apart from sockets and processes; its CPU per message is not moved much by a busy machine);
 *  - request→reply round trip between two sessions: session A's requests to session B are
 *    answered by a listener replying as B the moment the message.request event arrives.
 * Run: bun scripts/bench/messaging.ts   (uses dist/cw for the node; BENCH_MSGS sets the count)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { NodeConnection } from "../../src/client/connection";
import { MessageStore } from "../../src/node/messaging/store";
import type { Reply, RequestInput, RequestType } from "../../src/protocol";

// BENCH_CW: another build to compare with (e.g. one of main), in the same run.
const CW = process.env.BENCH_CW ?? resolve(import.meta.dir, "../../dist/cw");
const N = Number(process.env.BENCH_MSGS ?? 2000);
// BENCH_HOME: a data dir whose node is already running (to profile one started by hand).
const home = process.env.BENCH_HOME ?? mkdtempSync(join(tmpdir(), "cw-bench-msg-"));
const env = { ...process.env, CODEWIRE_HOME: home };
const sock = join(home, "codewire.sock");

async function cw(...args: string[]) {
  const p = Bun.spawn([CW, ...args], { env, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`cw ${args.join(" ")} failed`);
  return out.trim();
}

async function once<T extends RequestType>(req: RequestInput<T>): Promise<Reply> {
  const c = await NodeConnection.open(sock);
  c.send(req);
  const r = await c.nextReply();
  c.close();
  if (!r) throw new Error("no reply");
  return r;
}

/**
 * The node's CPU time so far (user + system, ms), from /proc: per message it says what the node
 * spends whatever else runs on the machine (other tests, benches), unlike the rates.
 */
function nodeCpuMs(): number {
  try {
    const pid = readFileSync(join(home, "codewire.pid"), "utf8").trim();
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

try {
  await cw("launch", "bench-a", "--", "sleep", "3600");
  await cw("launch", "bench-b", "--", "sleep", "3600");

  let t0 = performance.now();
  for (let i = 0; i < N; i++) await once({ type: "MsgSend", to: "bench-b", from: "bench-a", body: `message ${i}` });
  const seqRate = N / ((performance.now() - t0) / 1000);

  const cpu0 = nodeCpuMs();
  t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < N) {
        next++;
        await once({ type: "MsgSend", to: "bench-b", body: "parallel" });
      }
    }),
  );
  const parRate = N / ((performance.now() - t0) / 1000);
  const parCpuUs = ((nodeCpuMs() - cpu0) * 1000) / N;

  // What a shell user (or an agent running commands) sees: cw msg, a process per message.
  // BENCH_CLI sets how many (0 skips it, for quick repeated runs).
  const CLI_N = Math.min(N, Number(process.env.BENCH_CLI ?? 200));
  t0 = performance.now();
  next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < CLI_N) {
        next++;
        await cw("msg", "bench-b", "from the shell");
      }
    }),
  );
  const cliRate = CLI_N ? CLI_N / ((performance.now() - t0) / 1000) : NaN;

  // The store alone: 8 senders' messages at a time, each awaited until durable.
  const storeDir = mkdtempSync(join(tmpdir(), "cw-bench-store-"));
  const store = new MessageStore(join(storeDir, "messages.db"));
  const storeCpu0 = process.cpuUsage();
  t0 = performance.now();
  for (let i = 0; i < N; i += 8) {
    const batch: Promise<void>[] = [];
    for (let j = 0; j < 8; j++) {
      store.insert({ id: store.newId("msg"), kind: "direct", from: null, to: { id: 1 }, body: "parallel" });
      batch.push(store.durable());
    }
    await Promise.all(batch);
  }
  const storeRate = N / ((performance.now() - t0) / 1000);
  const storeCpu = process.cpuUsage(storeCpu0);
  store.close();
  rmSync(storeDir, { recursive: true, force: true });

  // Responder: answers every request to bench-b as soon as it is announced.
  const listener = await NodeConnection.open(sock);
  listener.send({ type: "MsgListen", session: "bench-b" });
  await listener.nextReply();
  void (async () => {
    for (;;) {
      const m = await listener.nextReply().catch(() => null);
      if (!m) return;
      if (m.type !== "Event" || m.event.type !== "message.request") continue;
      const req = m.event.data.message as { id: string };
      void once({ type: "MsgReply", request_id: req.id, body: "ok", from: "bench-b" });
    }
  })();
  const rounds = Math.min(N, 1000);
  const rtt: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const s = performance.now();
    const r = await once({ type: "MsgRequest", to: "bench-b", from: "bench-a", body: "ping", timeout_s: 10 });
    if (r.type !== "MsgRequestResult" || r.outcome !== "replied") throw new Error(`request ${i}: ${JSON.stringify(r)}`);
    rtt.push(performance.now() - s);
  }
  listener.close();

  const results = {
    msg_per_s_sequential: Math.round(seqRate),
    msg_per_s_8_in_flight: Math.round(parRate),
    node_cpu_us_per_msg_8: Math.round(parCpuUs),
    store_msg_per_s_8: Math.round(storeRate),
    store_cpu_us_per_msg_8: Math.round((storeCpu.user + storeCpu.system) / N),
    ...(CLI_N ? { cw_msg_per_s_8_in_flight: Math.round(cliRate) } : {}),
    request_reply_p50_ms: +pct(rtt, 50).toFixed(2),
    request_reply_p99_ms: +pct(rtt, 99).toFixed(2),
    messages: N,
    requests: rounds,
  };
  console.log("messaging (protocol level, durable: each message on disk before its sender hears sent; group commit)");
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(24)} ${v}`);
  // Issue 14's targets.
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
  console.log(`  target: >= 10000 msg/s with 8 in flight: ${verdict(results.msg_per_s_8_in_flight >= 10_000)}; request→reply p50 < 0.5 ms: ${verdict(results.request_reply_p50_ms < 0.5)}`);
  if (process.argv.includes("--json")) console.log(JSON.stringify(results));
} finally {
  await cw("stop").catch(() => {});
  if (!process.env.BENCH_HOME) rmSync(home, { recursive: true, force: true });
}
