/**
 * Lanes: a local `cw attach` whose terminal the node serves itself (node/lane/): the lane thread
 * reads the PTY and the terminal (bun-pty's terminals, and Bun's own PTY, whose event loop is
 * kept from reading it meanwhile: pty/epoll-reader.ts), or, on Bun's PTY with
 * CODEWIRE_PTY_LANES=0 or where its reading cannot be handed over, a direct terminal
 * (lane/direct.ts). The everyday behaviour (typing, detaching, vim, resize, two clients) runs in
 * attach.test.ts; here are the ways a lane ends that a client over its socket does not have: its
 * client killed outright, and its terminal no longer reading.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { BenchPty } from "../scripts/bench/pty";
import { CW, CwHome, running, Tmux, waitFor } from "./helpers";

let tmux: Tmux | undefined;
let pty: BenchPty | undefined;
afterEach(async () => {
  await tmux?.kill();
  tmux = undefined;
  pty?.close();
  pty = undefined;
});

const MODES = [
  { name: "Bun's PTY: the lane thread", env: { CODEWIRE_PTY: "bun" }, direct: false, fellBehind: "serving it directly" },
  { name: "Bun's PTY: direct terminals", env: { CODEWIRE_PTY: "bun", CODEWIRE_PTY_LANES: "0" }, direct: true, fellBehind: undefined },
  { name: "bun-pty: the lane thread", env: { CODEWIRE_PTY: "bun-pty" }, direct: false, fellBehind: "serving it over the socket" },
] as const;
const DIRECT = "attach serves terminals directly";

/**
 * Checks that the lines of `log` starting with `prefix` are prefix1 … prefix`n`, each once and in
 * order; on a mismatch it names the first line out of place rather than printing megabytes.
 */
function expectEveryLine(log: string, prefix: string, n: number): void {
  const got = log.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l.startsWith(prefix));
  let i = 0;
  while (i < got.length && got[i] === `${prefix}${i + 1}`) i++;
  expect(i === n && got.length === n ? "every line, in order" : `${got.length} lines; line ${i + 1} is ${JSON.stringify(got[i] ?? null)}, not ${prefix}${i + 1}`).toBe("every line, in order");
}

for (const mode of MODES) {
describe(`lanes (${mode.name})`, () => {
  let cw: CwHome;
  beforeAll(() => {
    cw = new CwHome({ ...mode.env });
  });
  afterAll(async () => {
    await cw.cleanup();
  });
  const laneStarted = mode.direct ? DIRECT : "lane thread started";

  test("a client killed outright: the node lets go of its terminal, the session keeps running", async () => {
    const id = await cw.launch(["bash", "--norc", "--noprofile"], ["lane-kill"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach lane-kill`, cw.env);
    await waitFor(() => readFileSync(cw.path("node.log"), "utf8").includes(laneStarted), "the lane");
    await tmux.type("echo before-$((20+1))");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("before-21"), "the lane to carry keys and echo");
    // A lane is what it says: the lane thread reads the PTY, not a direct terminal.
    if (!mode.direct) expect(readFileSync(cw.path("node.log"), "utf8")).not.toContain(DIRECT);

    const pane = Number((await tmux.cmd("display", "-p", "-t", "t", "#{pane_pid}")).trim());
    const client = await waitFor(() => Number(Bun.spawnSync(["pgrep", "-P", String(pane), "-f", "attach"]).stdout.toString().trim().split("\n")[0]) || undefined, "the attach process");
    process.kill(client, "SIGKILL");
    await waitFor(() => !running(client), "the client to die");
    await tmux.waitScreen((s) => /\[exit 137\]/.test(s), "the pane's shell to see it");
    await waitFor(async () => (await cw.session(id)).attached_count === 0, "the node to count the client gone");

    // The session goes on, and its output no longer reaches the terminal the client had.
    await cw.ok(["send", "lane-kill", "echo after-$((40+2))"]);
    await waitFor(async () => (await cw.ok(["logs", "lane-kill"])).includes("after-42"), "the session to run the line");
    expect(await tmux.capture()).not.toContain("after-42");
    expect((await cw.session(id)).status).toBe("running");
  });

  test("a second lane opened while output flows gets every byte of it, in order", async () => {
    // While one lane is open its thread reads the PTY, and what it read reaches the node's log
    // a moment later: a second terminal painted meanwhile lost those bytes (attach.test's "two
    // clients" missed an echo about 1 run in 40).
    // In bursts with pauses, so the output still flows when the second terminal opens: printed
    // at once, it could all be done before the first look at the log (whose last line then says
    // ticks-done, not tick-).
    const id = await cw.launch(["bash", "-c", "read go; for i in $(seq 1 30000); do echo tick-$i; [ $((i % 1000)) = 0 ] && sleep 0.05; done; echo ticks-done; sleep 60"], ["lane-two"]);
    pty = new BenchPty({ cmd: [CW, "attach", "lane-two"], env: cw.env, cols: 80, rows: 24 });
    expect(pty.waitOutput(10_000)).toBe(true);
    await waitFor(async () => (await cw.session(id)).attached_count === 1, "the first attach");
    await cw.ok(["send", "lane-two", "go"]);
    await waitFor(async () => (await cw.ok(["logs", "lane-two", "--tail", "1"])).includes("tick-"), "the output to flow");
    const second = new BenchPty({ cmd: [CW, "attach", "lane-two"], env: cw.env, cols: 80, rows: 24 });
    try {
      let text = "";
      const until = Date.now() + 30_000;
      while (!text.includes("ticks-done") && Date.now() < until) {
        const r = second.read(200);
        if (r.kind === "eof") break;
        if (r.kind === "data") text += new TextDecoder().decode(second.buf.subarray(0, r.n));
        pty.drainQuiet(0, 5);
      }
      expect(text).toContain("ticks-done");
      // The paint's rows, then live output: escape sequences aside, one tick after another.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal output
      const ticks = [...text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, "").matchAll(/tick-(\d+)/g)].map((m) => Number(m[1]));
      const gaps = ticks.flatMap((n, i) => (i > 0 && n !== ticks[i - 1]! + 1 ? [`${ticks[i - 1]} then ${n}`] : []));
      expect(gaps).toEqual([]);
      expect(ticks.at(-1)).toBe(30000);
    } finally {
      second.close();
      await cw.ok(["kill", "lane-two"]);
    }
  });

  test("a client over its socket beside a lane: its keys reach the program, and both terminals show the echo", async () => {
    // While a lane is open its thread reads the PTY: what another client types comes back through
    // it to the main thread and on to that client.
    const id = await cw.launch(["cat"], ["lane-mixed"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach lane-mixed`, cw.env);
    await waitFor(async () => (await cw.session(id)).attached_count === 1, "the lane's attach");
    pty = new BenchPty({ cmd: [CW, "attach", "lane-mixed"], env: { ...cw.env, CODEWIRE_LANES: "0" }, cols: 80, rows: 24 });
    expect(pty.waitOutput(10_000)).toBe(true);
    await waitFor(async () => (await cw.session(id)).attached_count === 2, "the socket client's attach");
    let seen = "";
    // (The client's own terminal adds a CR to each line's CRLF.)
    const twice = (word: string) => new RegExp(`${word}\r+\n${word}`);
    for (const word of ["from-socket-1", "from-socket-2"]) {
      pty.write(`${word}\r`);
      const until = Date.now() + 10_000;
      while (!twice(word).test(seen) && Date.now() < until) {
        const r = pty.read(200);
        if (r.kind === "eof") break;
        if (r.kind === "data") seen += new TextDecoder().decode(pty.buf.subarray(0, r.n));
      }
      // cat's terminal echoes the line, then cat prints it: twice, on the typing client too.
      expect(seen).toMatch(twice(word));
      await tmux.waitScreen((screen) => screen.split(word).length - 1 === 2, "the lane's terminal to show it");
    }
    // And the lane's own keys reach the socket client.
    await tmux.type("from-lane");
    await tmux.keys("Enter");
    const until = Date.now() + 10_000;
    while (!twice("from-lane").test(seen) && Date.now() < until) {
      const r = pty.read(200);
      if (r.kind === "eof") break;
      if (r.kind === "data") seen += new TextDecoder().decode(pty.buf.subarray(0, r.n));
    }
    expect(seen).toMatch(twice("from-lane"));
    await cw.ok(["kill", "lane-mixed"]);
  });

  test("programs that print a lot and end while attached: the log has all of their output, in order", async () => {
    // Bun reads a PTY once more when its program exits, even while the lane thread reads it: the
    // two once split the last output between them, and a chunk of it reached the log out of
    // place (1 in 5 such runs). Three runs, each ending with ~190 KiB still on its way.
    for (let run = 1; run <= 3; run++) {
      const name = `lane-exit-${run}`;
      const id = await cw.launch(["bash", "-c", "read go; seq 1 30000 | sed 's/^/out-/'; exit 3"], [name]);
      tmux = new Tmux();
      await tmux.start(`${CW} attach ${name}`, cw.env);
      await waitFor(async () => (await cw.session(id)).attached_count === 1, "the attach");
      await tmux.type("go");
      await tmux.keys("Enter");
      await waitFor(async () => (await cw.session(id)).status !== "running", "the program to end", 30_000);
      const s = await cw.session(id);
      expect([s.status, s.exit_code]).toEqual(["completed", 3]);
      expectEveryLine(await cw.ok(["logs", name]), "out-", 30_000);
      await tmux.kill();
      tmux = undefined;
    }
    const log = readFileSync(cw.path("node.log"), "utf8");
    if (!mode.direct) expect(log).not.toContain(DIRECT);
    expect(log).not.toContain("given back; they are not in the session's log");
  });

  test("a terminal that stops reading: the session never waits for it, and it catches up with a repaint, not a replay", async () => {
    // ~7 MiB of output, more than a lane holds for a terminal (4 MiB on bun-pty, 256 KiB on Bun's
    // PTY) before handing it back.
    const id = await cw.launch(["bash", "-c", "read go; seq 1 500000 | sed 's/^/flood-line-/'; echo flood-done; sleep 60"], ["lane-flood"]);
    pty = new BenchPty({ cmd: [CW, "attach", "lane-flood"], env: cw.env, cols: 80, rows: 24 });
    expect(pty.waitOutput(10_000)).toBe(true);
    await waitFor(async () => (await cw.session(id)).attached_count === 1, "the attach");
    // The flood starts while nobody reads the client's terminal.
    await cw.ok(["send", "lane-flood", "go"]);
    await waitFor(async () => (await cw.ok(["logs", "lane-flood", "--tail", "1"])).includes("flood-done"), "the program to finish its output", 30_000);
    expect((await cw.session(id)).attached_count).toBe(1);
    // The log has every byte, across the terminal's handover (the chunk being read when a lane
    // handed its terminal back was once dropped: ~4 KiB missing at each handover).
    expectEveryLine(await cw.ok(["logs", "lane-flood"]), "flood-line-", 500_000);
    expect(readFileSync(cw.path("node.log"), "utf8")).not.toContain("given back; they are not in the session's log");

    // Now the terminal reads again: it ends up showing the end of the output, not a replay of it all.
    let seen = "";
    let total = 0;
    const until = Date.now() + 30_000;
    while (!seen.includes("flood-done") && Date.now() < until) {
      const r = pty.read(200);
      if (r.kind === "eof") break;
      if (r.kind !== "data") continue;
      total += r.n;
      seen = (seen + new TextDecoder().decode(pty.buf.subarray(0, r.n))).slice(-4096);
    }
    expect(seen).toContain("flood-done");
    expect(total).toBeLessThan(7 * 1024 * 1024);
    // A lane hands the terminal back (to a direct terminal on Bun's PTY, to the client on
    // bun-pty); a direct terminal is repainted where it is.
    if (mode.fellBehind) expect(readFileSync(cw.path("node.log"), "utf8")).toContain(`lane: session ${id}'s terminal fell behind; ${mode.fellBehind}`);
    expect((await cw.session(id)).attached_count).toBe(1);

    // Keys work again, however the terminal is served now: Ctrl+B d detaches.
    pty.write("\x02d");
    const end = Date.now() + 10_000;
    while (!seen.includes("detached from session") && Date.now() < end) {
      const r = pty.read(200);
      if (r.kind === "eof") break;
      if (r.kind === "data") seen = (seen + new TextDecoder().decode(pty.buf.subarray(0, r.n))).slice(-4096);
    }
    expect(seen).toContain("detached from session");
    await waitFor(async () => (await cw.session(id)).attached_count === 0, "the detach");
    await cw.ok(["kill", "lane-flood"]);
  });
});
}
