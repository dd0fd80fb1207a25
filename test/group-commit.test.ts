/**
 * Group commit (node/messaging/group-commit.ts): senders in flight share one flush of the disk,
 * and nobody hears "on disk" from a flush that began before its own commit.
 */
import { expect, test } from "bun:test";
import { GroupCommit, REGROUP_MS } from "../src/node/messaging/group-commit";
import { MessageStore } from "../src/node/messaging/store";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The turn of the event loop after this one, when a flush asked for now begins. */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** A flush that finishes when the test says so. */
function manualFlush() {
  const started: (() => void)[] = [];
  return {
    started,
    flush: () => new Promise<void>((resolve) => started.push(resolve)),
  };
}

test("eight callers while a flush runs share the next flush", async () => {
  const f = manualFlush();
  const gc = new GroupCommit(f.flush);
  const done: number[] = [];
  const first = gc.durable().then(() => done.push(0));
  expect(f.started.length).toBe(0); // begins after what the event loop has read in this turn
  await nextTurn();
  expect(f.started.length).toBe(1);
  const rest = Array.from({ length: 8 }, (_, i) => gc.durable().then(() => done.push(i + 1)));
  // Their commits came after the running flush began: it must not answer for them.
  f.started[0]!();
  await first;
  expect(done).toEqual([0]);
  await nextTurn();
  expect(f.started.length).toBe(2);
  f.started[1]!();
  await Promise.all(rest);
  expect(done.length).toBe(9);
  expect(f.started.length).toBe(2);
});

test("a failed flush fails the callers it covered, and the next flush still runs", async () => {
  let calls = 0;
  const gc = new GroupCommit(() => (++calls === 1 ? Promise.reject(new Error("EIO")) : Promise.resolve()));
  await expect(gc.durable()).rejects.toThrow("EIO");
  await gc.durable();
  expect(calls).toBe(2);
});

test("the store: eight messages stored at once are on disk after at most two flushes of its log", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cw-gc-"));
  const store = new MessageStore(join(dir, "messages.db"));
  try {
    const flush = (store as unknown as { flush: () => Promise<void> }).flush.bind(store);
    let flushes = 0;
    (store as unknown as { flush: () => Promise<void> }).flush = () => {
      flushes++;
      return flush();
    };
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => {
        store.insert({ id: `msg_${i}`, kind: "direct", from: null, to: { id: 1 }, body: `m${i}` });
        return store.durable();
      }),
    );
    expect(flushes).toBeLessThanOrEqual(2);
    expect(store.inbox(1, 10, false, false).messages.map((m) => m.body)).toEqual(Array.from({ length: 8 }, (_, i) => `m${i}`));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("settled() waits for every caller, including those of a flush still to come", async () => {
  const f = manualFlush();
  const gc = new GroupCommit(f.flush);
  let heard = 0;
  void gc.durable().then(() => heard++);
  await nextTurn(); // the first flush runs; a second caller waits for the next
  void gc.durable().then(() => heard++);
  let settled = false;
  const s = gc.settled().then(() => (settled = true));
  f.started[0]!();
  await Bun.sleep(0);
  expect(settled).toBe(false);
  await nextTurn();
  f.started[1]!();
  await s;
  expect(heard).toBe(2);
});

test("regrouping: the next flush waits for the callers the last one answered, and begins once they are back", async () => {
  const f = manualFlush();
  const gc = new GroupCommit(f.flush, true);
  // Four senders share a flush; four more arrive while it runs.
  const first = Array.from({ length: 4 }, () => gc.durable());
  await nextTurn();
  expect(f.started.length).toBe(1);
  const second = Array.from({ length: 4 }, () => gc.durable());
  f.started[0]!();
  await Promise.all(first);
  // The four answered come back one by one: no flush begins before the last of them is in.
  const back: Promise<void>[] = [];
  for (let i = 0; i < 4; i++) {
    await nextTurn();
    await nextTurn();
    expect(f.started.length).toBe(1);
    back.push(gc.durable());
  }
  await nextTurn();
  expect(f.started.length).toBe(2); // one flush for all eight
  f.started[1]!();
  await Promise.all([...second, ...back]);
  expect(f.started.length).toBe(2);
});

test("regrouping: callers that do not come back are waited for REGROUP_MS at most", async () => {
  const f = manualFlush();
  const gc = new GroupCommit(f.flush, true);
  const first = Array.from({ length: 8 }, () => gc.durable());
  await nextTurn();
  f.started[0]!();
  await Promise.all(first);
  const asked = performance.now();
  const lone = gc.durable();
  await nextTurn();
  await nextTurn();
  expect(f.started.length).toBe(1); // waiting for the seven others
  // The flush begins without the seven that never come back: within a bound, not never.
  const begun = await new Promise<number>((resolve) => {
    const look = () => (f.started.length === 2 ? resolve(performance.now()) : setTimeout(look, 0));
    look();
  });
  expect(begun - asked).toBeGreaterThanOrEqual(REGROUP_MS * 0.9);
  expect(begun - asked).toBeLessThan(1000);
  f.started[1]!();
  await lone;
});

test("regrouping: a lone sender never waits, and neither does a caller after a quiet spell", async () => {
  const f = manualFlush();
  const gc = new GroupCommit(f.flush, true);
  for (let i = 0; i < 3; i++) {
    const p = gc.durable();
    await nextTurn();
    expect(f.started.length).toBe(i + 1); // begins on the next turn, as without regrouping
    f.started[i]!();
    await p;
  }
  // After REGROUP_MS with nobody back, the expectation is over.
  const many = Array.from({ length: 8 }, () => gc.durable());
  await nextTurn();
  f.started[3]!();
  await Promise.all(many);
  await Bun.sleep(REGROUP_MS * 2); // the quiet spell itself (not a wait for something to happen)
  const after = gc.durable();
  await nextTurn();
  expect(f.started.length).toBe(5);
  f.started[4]!();
  await after;
});
