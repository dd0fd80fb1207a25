/**
 * The lane thread's life (node/lane/lanes.ts): started by the first local attach, stopped once no
 * attach has needed it for a while (its JavaScript VM given back, its wake pipe closed), and
 * started again by the next attach, which then works as the first did. Real PTYs and a real
 * worker thread, in this process: a "user's terminal" (a PTY in raw mode, as `cw attach` leaves
 * it) whose keys the lane thread reads and writes into a session's PTY running `cat`.
 */
import { afterEach, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { type Lane, Lanes } from "../src/node/lane/lanes";
import { BenchPty } from "../scripts/bench/pty";
import type { BunTerminalPty } from "../src/node/pty/bun-terminal";
import { spawnPty } from "../src/node/pty/pty";
import { waitFor, workerThreads } from "./helpers";

const IDLE_MS = 150;
const started: BunTerminalPty[] = [];

afterEach(() => {
  for (const p of started.splice(0)) if (!p.isExited) p.signal("SIGKILL");
});

/** A program on a PTY of its own, in raw mode; resolves once it says it is ready. */
async function rawPty(program: string): Promise<{ pty: BunTerminalPty; output: () => string }> {
  const pty = spawnPty({ command: ["sh", "-c", `stty raw -echo; echo ready; exec ${program}`], cwd: "/", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, cols: 80, rows: 24 }, "bun") as BunTerminalPty;
  started.push(pty);
  let out = "";
  pty.onData((chunk) => {
    out += new TextDecoder().decode(chunk);
  });
  await waitFor(() => out.includes("ready"), `${program} to start`);
  return { pty, output: () => out };
}

const openFds = () => readdirSync("/proc/self/fd").length;

const events = { input() {}, detach() {}, hangup() {}, lagged() {}, output: () => new Uint8Array(0) };

/** Opens a keys lane from `user`'s terminal into `session`'s PTY, types `keys`, waits for cat's echo. */
async function typeThroughLane(lanes: Lanes, user: BunTerminalPty, session: { pty: BunTerminalPty; output: () => string }, keys: string) {
  const fd = lanes.openTerminal(readlinkSync(`/proc/${user.pid}/fd/0`));
  expect(fd).toBeDefined();
  const ptyFd = session.pty.dupMaster();
  expect(ptyFd).toBeGreaterThanOrEqual(0);
  const lane = lanes.openKeys(fd!, ptyFd, events);
  user.write(keys);
  await waitFor(() => session.output().includes(keys), `"${keys}" to reach the session through the lane`);
  return lane;
}

test("the lane thread stops once no attach needs it; the next attach starts another that works", async () => {
  const logs: string[] = [];
  const lanes = new Lanes((m) => logs.push(m), IDLE_MS);
  expect(lanes.canServeKeys()).toBe(true);
  const user = (await rawPty("sleep 600")).pty;
  const session = await rawPty("cat");
  const workers = workerThreads();
  const fds = openFds();

  const first = await typeThroughLane(lanes, user, session, "first-keys");
  expect(lanes.threadRunning).toBe(true);
  expect(workerThreads()).toBe(workers + 1);
  first.close();
  await waitFor(() => !lanes.threadRunning, "the idle lane thread to stop", 5_000);
  expect(logs.join("\n")).toContain("lane thread stopped");
  // The thread is gone and nothing of it stays open: its wake pipe, the terminal, the PTY's copy.
  await waitFor(() => workerThreads() === workers, "the lane thread to exit", 5_000);
  await waitFor(() => openFds() === fds, "the lane's descriptors to be closed", 5_000);

  const second = await typeThroughLane(lanes, user, session, "second-keys");
  expect(lanes.threadRunning).toBe(true);
  second.close();
  await waitFor(() => !lanes.threadRunning, "the second lane thread to stop", 5_000);
  await waitFor(() => openFds() === fds, "the second lane's descriptors to be closed", 5_000);
});

test("an open lane keeps the thread", async () => {
  const lanes = new Lanes(() => {}, IDLE_MS);
  const user = (await rawPty("sleep 600")).pty;
  const session = await rawPty("cat");
  const lane = await typeThroughLane(lanes, user, session, "kept");
  // Three idle periods with the lane open: an observation window, not a synchronisation.
  await Bun.sleep(3 * IDLE_MS);
  expect(lanes.threadRunning).toBe(true);
  user.write("still-served");
  await waitFor(() => session.output().includes("still-served"), "keys through the kept lane");
  lane.close();
  await waitFor(() => !lanes.threadRunning, "the thread to stop after the lane closed", 5_000);
});

/** Reads `term` until `want` has come, yielding to the event loop between reads; what came. */
async function readTerminal(term: BenchPty, want: string, timeoutMs = 5000): Promise<string> {
  let text = "";
  const until = Date.now() + timeoutMs;
  while (!text.includes(want) && Date.now() < until) {
    const r = term.read(20);
    if (r.kind === "data") text += new TextDecoder().decode(term.buf.subarray(0, r.n));
    if (r.kind === "eof") break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return text;
}

test("a lane opened while the thread lets go of the PTY's last one (its terminal hung up) still gets the output", async () => {
  const logs: string[] = [];
  const lanes = new Lanes((m) => logs.push(m), IDLE_MS);
  const session = await rawPty("cat");
  let logged = "";
  session.pty.onData((chunk) => {
    logged += new TextDecoder().decode(chunk);
  });
  // Two users' terminals, as `cw attach` leaves them; the lane thread writes to their slaves.
  const [termA, termB] = [0, 1].map(() => new BenchPty({ cmd: ["sleep", "600"], cols: 80, rows: 24 }));
  try {
    const slave = (t: BenchPty) => waitFor(() => {
      try {
        const p = readlinkSync(`/proc/${t.proc.pid}/fd/0`);
        return p.startsWith("/dev/pts/") ? p : undefined;
      } catch {
        return undefined;
      }
    }, "the terminal's slave");
    const [pathA, pathB] = [await slave(termA!), await slave(termB!)];
    let hungUp = false;
    const fdA = lanes.openTerminal(pathA)!;
    expect(fdA).toBeDefined();
    // The PTY's first lane: its reading may be about to be read in this very turn, so try on later ones too.
    let laneA: Lane | undefined;
    for (let i = 0; i < 20 && !laneA; i++) {
      laneA = lanes.open(session.pty, fdA, () => new Uint8Array(0), () => 0, { ...events, hangup: () => { hungUp = true; } });
      if (!laneA) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(laneA).toBeDefined();
    session.pty.write("one-");
    expect(await readTerminal(termA!, "one-")).toContain("one-");

    // From here on the main thread does not turn its event loop, so what the lane thread posts
    // ("hangup", then "released": it no longer reads the PTY) waits, as it does when a second
    // client attaches in that moment.
    termA!.close();
    const fds = openFds();
    session.pty.write("two-");
    // The lane thread reads that, cannot write it to A's terminal, closes A's lane and gives the
    // PTY up: A's terminal, A's copy of the PTY's master and its own reading descriptor.
    const until = Date.now() + 5000;
    while (openFds() > fds - 3 && Date.now() < until) {
      /* busy: the point is not to turn the event loop */
    }
    expect(openFds()).toBeLessThanOrEqual(fds - 3);
    const fdB = lanes.openTerminal(pathB)!;
    const laneB = lanes.open(session.pty, fdB, () => new Uint8Array(0), () => logged.length, events);
    expect(laneB).toBeDefined();

    // The thread reads the PTY again for B (it was given a descriptor of its own to do so).
    session.pty.write("three-");
    expect(await readTerminal(termB!, "three-")).toContain("three-");
    await waitFor(() => hungUp, "A's hangup to reach the main thread");
    expect(logs.join("\n")).not.toContain("failed");
    // And the session's output reached the main thread once each, in order.
    await waitFor(() => logged.includes("three-"), "the output to reach the main thread");
    expect(logged).toBe("one-two-three-");
    laneB!.close();
    await waitFor(() => !lanes.threadRunning, "the lane thread to stop", 5_000);
  } finally {
    termA!.close();
    termB!.close();
  }
});
