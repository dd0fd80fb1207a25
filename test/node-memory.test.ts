/**
 * What the node keeps in memory (issue 14): idle sessions, a node without sessions, and a flood
 * of output. Measured from /proc/<pid>/status (VmRSS, VmHWM: all threads, the screen worker's
 * included) of the node; the margins are wide, these catch a return of what was cut, not noise.
 */
import { afterEach, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { CwHome, waitFor } from "./helpers";

const KiB = 1024;
const MiB = 1024 * KiB;

function status(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]);
}

let cw: CwHome | undefined;
afterEach(async () => {
  await cw?.cleanup();
  cw = undefined;
});

test("the screen worker starts with the first session, not with the node", async () => {
  cw = new CwHome();
  expect((await cw.run(["start"])).code).toBe(0);
  const pid = cw.nodePid()!;
  const idle = status(pid, "Threads");
  const id = await cw.launch(["bash", "-c", "echo first-line; sleep 60"]);
  await waitFor(async () => (await cw!.ok(["screen", String(id)])).includes("first-line"), "the screen to show the output");
  expect(status(pid, "Threads")).toBeGreaterThan(idle);
});

test("sessions that print nothing cost no terminal emulator; one made late still shows the screen", async () => {
  cw = new CwHome();
  const first = await cw.launch(["sleep", "600"]);
  // The worker is running now (the first session opened it): count only what each session adds.
  await waitFor(async () => (await cw!.session(first)).status === "running", "the first session");
  const pid = cw.nodePid()!;
  await Bun.sleep(300); // not a synchronisation: the worker's start-up settles before the baseline
  const before = status(pid, "VmRSS") * KiB;
  const N = 50;
  for (let i = 0; i < N; i++) await cw.launch(["sleep", "600"]);
  // An emulator alone is ~120-180 KiB; each session cost ~310 KiB when every one had its own.
  // The launches' garbage goes at the node's next collection (a second after requests, see
  // node/collect-after-work.ts), so the cost is read until it is under the limit or 5 s passed.
  let per = Number.POSITIVE_INFINITY;
  await waitFor(() => (per = (status(pid, "VmRSS") * KiB - before) / N) < 200 * KiB, "the per-session cost to settle", 5_000, 100).catch(() => {});
  expect(per).toBeLessThan(200 * KiB);

  // A session silent at first gets its emulator with its first output, at its current size.
  const late = await cw.launch(["bash", "-c", "read x; echo \"late:$x\"; sleep 60"]);
  await cw.ok(["send", String(late), "hello"]);
  await waitFor(async () => (await cw!.ok(["screen", String(late)])).includes("late:hello"), "the late screen");
}, 60_000);

test("a flood of output: the node's peak memory stays bounded while the screen lags behind", async () => {
  cw = new CwHome();
  const payload = cw.path("payload");
  const line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n";
  writeFileSync(payload, line.repeat((64 * MiB) / line.length));
  const warm = await cw.launch(["true"]);
  await cw.waitStatus(warm, "completed");
  const pid = cw.nodePid()!;
  const base = status(pid, "VmRSS") * KiB;
  const id = await cw.launch(["bash", "-c", `cat '${payload}'; echo flood-done; sleep 60`]);
  await waitFor(async () => (await cw!.ok(["logs", String(id), "--tail", "1"])).includes("flood-done"), "the flood to end", 50_000, 200);
  // With 8 MiB queued for the emulator the peak was 52-53 MiB above the start; with 2 MiB, 33-36.
  expect(status(pid, "VmHWM") * KiB - base).toBeLessThan(44 * MiB);
  // The screen catches up with the flood's end.
  await waitFor(async () => (await cw!.ok(["screen", String(id)])).includes("flood-done"), "the screen after the flood", 20_000);
}, 90_000);
