/**
 * `bun scripts/bench/echo-parts.ts`: where a keystroke's echo spends its time, part by part.
 *
 *   1. each PTY backend alone: this process writes a key into a PTY (bun-pty through our binding,
 *      then Bun's own terminal, as the node uses them) running `stty raw -echo; exec cat` and
 *      waits for it to come back.
 *   2. the node without `cw attach`: a protocol client in this process attaches to such a
 *      session on a real node and sends keys as data frames.
 *
 * The full path (a terminal → `cw attach` → node → program and back) is measured by
 * `bun run bench`; comparing the three shows which hop the latency belongs to. Keys are 35-85 ms
 * apart, as in the main benchmark's typing mode. BENCH_SAMPLES sets the number (default 300).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { type PtyBackend, spawnPty } from "../../src/node/pty/pty";
import { ECHO_PROGRAM } from "./latency";
import { Cw } from "./subjects";
import { quantile } from "./util";

const samples = Number(process.env.BENCH_SAMPLES) > 0 ? Number(process.env.BENCH_SAMPLES) : 300;
const WARMUP = 20;
const gap = () => Bun.sleep(35 + Math.random() * 50);
const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
const report = (name: string, lat: number[]) =>
  console.log(`${name.padEnd(28)} p50 ${us(quantile(lat, 0.5))}, p90 ${us(quantile(lat, 0.9))}, p99 ${us(quantile(lat, 0.99))}, max ${us(Math.max(...lat))}`);

/** Times `samples` round trips: `send(key)` must resolve once `key` came back. */
async function measure(send: (key: number) => Promise<void>): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < WARMUP + samples; i++) {
    await gap();
    const t0 = performance.now();
    await send(120 + (i % 3));
    if (i >= WARMUP) lat.push(performance.now() - t0);
  }
  return lat;
}

async function ptyAlone(backend: PtyBackend): Promise<number[]> {
  const pty = spawnPty({ command: ECHO_PROGRAM, cwd: "/", env: { TERM: "xterm-256color", PATH: process.env.PATH ?? "/usr/bin:/bin" }, cols: 80, rows: 24 }, backend);
  let waiting: { key: number; done: () => void } | undefined;
  pty.onData((chunk) => {
    if (waiting && chunk.includes(waiting.key)) waiting.done();
  });
  try {
    await Bun.sleep(300); // let `stty raw -echo` run
    return await measure((key) => new Promise<void>((done) => {
      waiting = { key, done };
      pty.write(new Uint8Array([key]));
    }));
  } finally {
    pty.signal("SIGKILL");
  }
}

async function throughNode(cw: Cw): Promise<number[]> {
  const session = await cw.launch(ECHO_PROGRAM);
  const conn = await cw.connect();
  conn.send({ type: "Attach", id: session.id, history: false, cols: 80, rows: 24 });
  const first = await conn.nextReply();
  if (first?.type !== "Attached") throw new Error(`attach failed: ${JSON.stringify(first)}`);
  try {
    await Bun.sleep(300);
    return await measure(async (key) => {
      conn.sendData(new Uint8Array([key]));
      for (;;) {
        const f = await conn.next();
        if (!f) throw new Error("the node closed the connection");
        if (f.kind === "data" && f.bytes.includes(key)) return;
      }
    });
  } finally {
    conn.close();
  }
}

const bin = resolve(process.env.BENCH_CW || join(import.meta.dir, "../../dist/cw"));
const root = mkdtempSync(join(os.tmpdir(), "cw-echo-parts-"));
const cw = new Cw(bin, join(root, "home"));
try {
  report("bun-pty alone (in-process)", await ptyAlone("bun-pty"));
  report("Bun terminal alone", await ptyAlone("bun"));
  cw.start();
  report(`protocol client → node (${process.env.BENCH_PTY || "bun-pty"})`, await throughNode(cw));
} finally {
  cw.cleanup();
  rmSync(root, { recursive: true, force: true });
}
process.exit(0);
