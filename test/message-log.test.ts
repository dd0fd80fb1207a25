/**
 * The messages' commit log (node/messaging/log.ts) and the store's recovery from it: a message
 * whose sender heard "sent" is on disk in the log even when SQLite never got it, and comes back
 * when the node starts; reading stops at the first record that does not check out.
 */
import { expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, openSync, closeSync, rmSync, writeSync, fstatSync, readFileSync } from "node:fs";
import { Database } from "bun:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageLog } from "../src/node/messaging/log";
import { MessageStore } from "../src/node/messaging/store";
import { NodeConnection } from "../src/client/connection";
import { CwHome, waitFor } from "./helpers";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function tempDir() {
  return mkdtempSync(join(tmpdir(), "cw-log-"));
}

test("records written and synced read back in order; a damaged record ends the reading there", async () => {
  const dir = tempDir();
  try {
    const path = join(dir, "m.log");
    const { log, payloads } = MessageLog.open(path, 64 * 1024);
    expect(payloads).toEqual([]);
    log.restart();
    log.append(log.encode([enc("one"), enc("two")]));
    log.append(log.encode([enc("three")]));
    await log.sync();
    log.close();
    // Preallocated: the file already had its full size.
    expect(readFileSync(path).length).toBe(64 * 1024);
    expect(MessageLog.open(path).payloads.map(dec)).toEqual(["one", "two", "three"]);
    // A torn write: one byte of "two" changed on disk.
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.from("X"), 0, 1, 16 + 8 + 3 + 8);
    closeSync(fd);
    const again = MessageLog.open(path);
    expect(again.payloads.map(dec)).toEqual(["one"]);
    again.log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("after a restart the earlier generation's records are not read, though still in the file", async () => {
  const dir = tempDir();
  try {
    const path = join(dir, "m.log");
    const first = MessageLog.open(path, 64 * 1024).log;
    first.restart();
    first.append(first.encode([enc("old-a"), enc("old-b"), enc("old-c")]));
    first.restart();
    first.append(first.encode([enc("new")])); // shorter: old-b and old-c lie after it
    await first.sync();
    first.close();
    const { log, payloads } = MessageLog.open(path);
    expect(payloads.map(dec)).toEqual(["new"]);
    log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a log larger than its preallocation grows; restart() once full starts over at the top", async () => {
  const dir = tempDir();
  try {
    const path = join(dir, "m.log");
    const { log } = MessageLog.open(path, 1024);
    log.restart();
    const big = enc("x".repeat(3000));
    expect(log.fits(big.length + 8)).toBe(true); // an empty log takes any batch
    log.append(log.encode([big]));
    expect(log.fits(10)).toBe(false);
    log.restart();
    expect(log.fits(100)).toBe(true);
    log.append(log.encode([enc("after")]));
    await log.sync();
    log.close();
    expect(fstatSync(openSync(path, "r")).size).toBeGreaterThan(3000);
    const again = MessageLog.open(path);
    expect(again.payloads.map(dec)).toEqual(["after"]);
    again.log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("messages on disk in the log but lost from SQLite come back when the store opens; a reply marks its request answered", async () => {
  const dir = tempDir();
  const db = join(dir, "messages.db");
  try {
    let store = new MessageStore(db);
    store.insert({ id: "msg_kept", kind: "direct", from: null, to: { id: 1 }, body: "kept" });
    store.insert({ id: "req_1", kind: "request", from: { id: 2 }, to: { id: 1 }, body: "question", status: "pending", expires_at: Date.now() + 60_000 });
    await store.durable();
    store.insert({ id: "msg_answer", kind: "reply", from: { id: 1 }, to: { id: 2 }, body: "answer", request_id: "req_1" });
    await store.durable();
    // What the disk held at that moment (as after a power cut): the log as written.
    copyFileSync(`${db}.log`, join(dir, "log-at-crash"));
    store.close();
    // SQLite lost them (its WAL was not flushed before the cut).
    const raw = new Database(db);
    raw.exec("DELETE FROM messages");
    raw.close();
    copyFileSync(join(dir, "log-at-crash"), `${db}.log`);
    store = new MessageStore(db);
    const box = store.inbox(1, 10, false, false).messages;
    expect(box.map((m) => [m.id, m.body, m.status ?? null])).toEqual([
      ["msg_kept", "kept", null],
      ["req_1", "question", "replied"],
    ]);
    expect(store.get("msg_answer")?.request_id).toBe("req_1");
    store.close();
    // Opening again replays nothing twice.
    store = new MessageStore(db);
    expect(store.inbox(1, 10, false, false).messages.length).toBe(2);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("kill -9 of the node while 8 senders are in flight loses no message a sender was told was sent", async () => {
  const home = new CwHome();
  try {
    await home.launch(["sleep", "120"], ["crash-target"]);
    const sock = home.path("codewire.sock");
    const sent: string[] = [];
    let stop = false;
    let failures = 0;
    const senders = Array.from({ length: 8 }, async (_, s) => {
      for (let i = 0; !stop; i++) {
        const body = `s${s}-${i}`;
        try {
          const c = await NodeConnection.open(sock);
          c.send({ type: "MsgSend", to: "crash-target", body });
          const r = await c.nextReply().catch(() => null);
          c.close();
          if (r?.type === "MsgSent") sent.push(body);
          else failures++;
        } catch {
          failures++;
        }
        if (failures) return; // the node is gone
      }
    });
    await waitFor(() => sent.length >= 300, "300 messages sent");
    process.kill(home.nodePid()!, "SIGKILL");
    stop = true;
    await Promise.all(senders);
    expect(sent.length).toBeGreaterThanOrEqual(300);
    expect(sent.length).toBeLessThan(1000); // all of them fit in one inbox read
    // The next command starts a node on the same data dir, which reads the log.
    const box = JSON.parse(await home.ok(["inbox", "crash-target", "--json", "--peek", "-t", "1000"]));
    const stored = new Set(box.messages.map((m: { body: string }) => m.body));
    const lost = sent.filter((b) => !stored.has(b));
    expect(lost).toEqual([]);
  } finally {
    await home.cleanup();
  }
});

test("message ids grow with each message and across a reopen, whatever an old random id in the store", async () => {
  const dir = tempDir();
  const path = join(dir, "messages.db");
  try {
    let store = new MessageStore(path);
    const ids = Array.from({ length: 200 }, (_, i) => (i % 2 ? store.newId("req") : store.newId("msg")));
    for (const id of ids) expect(id).toMatch(/^(msg|req)_[0-9a-f]{12}$/);
    const value = (id: string) => parseInt(id.slice(4), 16);
    for (let i = 1; i < ids.length; i++) expect(value(ids[i]!)).toBeGreaterThan(value(ids[i - 1]!));
    // Stored with a clock an hour ahead (set back since): the next ids still come after it.
    const ahead = `msg_${((Date.now() + 3600_000) * 64).toString(16)}`;
    store.insert({ id: ahead, kind: "direct", from: null, to: { id: 1 }, body: "from the future" });
    await store.durable();
    store.close();
    store = new MessageStore(path);
    expect(value(store.newId("msg"))).toBeGreaterThan(value(ahead));
    // An id from when ids were random says nothing about the clock: not followed.
    store.insert({ id: "msg_ffffffffff00", kind: "direct", from: null, to: { id: 1 }, body: "old" });
    await store.durable();
    store.close();
    store = new MessageStore(path);
    const next = store.newId("msg");
    expect(value(next)).toBeLessThan(value("msg_ffffffffff00"));
    expect(next).toMatch(/^msg_[0-9a-f]{12}$/);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
