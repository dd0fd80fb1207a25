/**
 * The relay's KV group commit (src/relay/store/kv-batch.ts): writes that arrive together share
 * one transaction and one flush, each keeps its own outcome and meaning, and a write the relay
 * answered is there after the relay is killed.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KvGetResponse, relayKvPath } from "../src/protocol/relay-api";
import { KvWriteBatches } from "../src/relay/store/kv-batch";
import { KvStore } from "../src/store/kv-store";
import { RelayProcess } from "./helpers";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function batches() {
  const dir = mkdtempSync(join(tmpdir(), "cw-kv-batch-"));
  const path = join(dir, "kv.db");
  const kv = new KvStore(path, { quota: { keys: 10, bytes: 1 << 20 }, exclusive: true });
  const transactions = { n: 0 };
  const writes = new KvWriteBatches(path, () => kv.checkpoint(), (fn) => {
    transactions.n++;
    kv.batch(fn);
  });
  cleanups.push(() => {
    writes.close();
    kv.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { kv, writes, transactions };
}

test("writes that arrive together commit in one transaction, each with its own outcome, in order", async () => {
  const { kv, writes, transactions } = batches();
  const racers = Array.from({ length: 16 }, (_, i) => writes.run(() => kv.set("ns", "lock", `owner-${i}`, 60, { ifAbsent: true })));
  const failing = writes.run(() => {
    throw new Error("this one fails");
  });
  const plain = Array.from({ length: 12 }, (_, i) => writes.run(() => kv.set("ns", `k${i}`, "v")));
  const release = writes.run(() => kv.delete("ns", "lock", { ifValue: "owner-0" }));
  const outcomes = await Promise.all(racers);
  // In arrival order: the first racer wins, and the later ones see its lock.
  expect(outcomes.map((o) => o.stored)).toEqual([true, ...Array(15).fill(false)]);
  await expect(failing).rejects.toThrow("this one fails");
  // The namespace holds at most 10 keys: the lock and 9 of these, then the quota refuses.
  expect((await Promise.all(plain)).map((o) => o.stored)).toEqual([...Array(9).fill(true), false, false, false]);
  expect(await release).toBe(true);
  expect(transactions.n).toBe(1);
  expect(kv.get("ns", "lock")).toBeNull();
  expect(kv.get("ns", "k8")?.value).toBe("v");
});

test("writes made while a batch waits for its flush form the next batch", async () => {
  const { kv, writes, transactions } = batches();
  const first = writes.run(() => kv.set("ns", "a", "1"));
  await new Promise<void>((r) => setImmediate(r));
  const second = writes.run(() => kv.set("ns", "b", "2"));
  expect(await first).toEqual({ stored: true });
  expect(await second).toEqual({ stored: true });
  expect(transactions.n).toBe(2);
  await writes.settled();
});

test("every write the relay answered is there after it is killed (kill -9) and started again", async () => {
  const relay = new RelayProcess();
  cleanups.push(() => relay.cleanup());
  await relay.start();
  const N = 200;
  const answers = await Promise.all(Array.from({ length: N }, (_, i) => relay.api("PUT", relayKvPath("crash", `k${i}`), { value: `v${i}` })));
  expect(answers.every((a) => a.status === 200)).toBe(true);
  relay.proc!.kill("SIGKILL");
  await relay.proc!.exited;
  await relay.start();
  const got = await Promise.all(Array.from({ length: N }, (_, i) => relay.api("GET", relayKvPath("crash", `k${i}`))));
  expect(got.map((g) => KvGetResponse.parse(g.json).entry.value)).toEqual(Array.from({ length: N }, (_, i) => `v${i}`));
  await relay.stop();
});

test("through the listener (Bun's own routing of /api/v1/kv): odd keys round-trip, listings and errors as in process", async () => {
  const relay = new RelayProcess();
  cleanups.push(() => relay.cleanup());
  await relay.start();
  const keys = ["a/b/c", "with space", "ünïcødé/日本語 🚀", "100%", "q?x=1&y", "frag#ment", "/leading", "trailing/", "a//b", "+plus"];
  for (const [i, key] of keys.entries()) expect((await relay.api("PUT", relayKvPath("ns", key), { value: `v${i}` })).status).toBe(200);
  for (const [i, key] of keys.entries()) expect(KvGetResponse.parse((await relay.api("GET", relayKvPath("ns", key))).json).entry).toEqual({ key, value: `v${i}`, expires_at: null });
  expect((await relay.api("GET", "/api/v1/kv/ns/a/b/c")).json.entry.value).toBe("v0");
  const listed = await relay.api("GET", `${relayKvPath("ns")}?limit=100`);
  expect(listed.json.entries.map((e: { key: string }) => e.key).sort()).toEqual([...keys].sort());
  expect(await relay.api("GET", relayKvPath("ns", "missing"))).toMatchObject({ status: 404, json: { error: "not_found" } });
  expect(await relay.api("GET", relayKvPath("ns", "k"), undefined, "not-a-token")).toMatchObject({ status: 401, json: { error: "unauthorized" } });
  expect(await relay.api("GET", relayKvPath("bad ns!", "k"))).toMatchObject({ status: 400, json: { error: "bad_request" } });
  expect(await relay.api("POST", relayKvPath("ns", "k"), {})).toMatchObject({ status: 404, json: { error: "not_found" } });
  const head = await fetch(`${relay.url}${relayKvPath("ns", "a/b/c")}`, { method: "HEAD", headers: { authorization: `Bearer ${relay.adminToken}` } });
  expect(head.status).toBe(200);
  await relay.stop();
});

test("a KV request in HTTP/1.0 without a Host header is answered as any other", async () => {
  const relay = new RelayProcess();
  cleanups.push(() => relay.cleanup());
  await relay.start();
  expect((await relay.api("PUT", relayKvPath("ns", "k"), { value: "v" })).status).toBe(200);
  const reply = await new Promise<string>((resolve, reject) => {
    let got = "";
    Bun.connect({
      hostname: "127.0.0.1",
      port: relay.port,
      socket: {
        open: (s) => void s.write(`GET ${relayKvPath("ns", "k")} HTTP/1.0\r\nAuthorization: Bearer ${relay.adminToken}\r\n\r\n`),
        data: (_s, d) => void (got += d.toString()),
        close: () => resolve(got),
        error: (_s, e) => reject(e),
      },
    }).catch(reject);
  });
  expect(reply).toStartWith("HTTP/1.1 200");
  expect(reply).toContain('"value":"v"');
  await relay.stop();
});
