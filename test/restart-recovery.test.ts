/**
 * What a node that restarts after a crash (kill -9) makes of what it finds: sessions that were
 * running, processes that outlived it, and a sessions.json with bad entries.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { CwHome, running, waitFor } from "./helpers";

let homes: CwHome[] = [];
let strays: number[] = [];
function home() {
  const h = new CwHome();
  homes.push(h);
  return h;
}
afterEach(async () => {
  // Processes that outlived their node are nobody's children: end their groups here.
  for (const pid of strays.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  await Promise.all(homes.map((h) => h.cleanup()));
  homes = [];
});

/** kill -9 of the node, then wait until it is gone. */
async function crashNode(cw: CwHome) {
  const pid = cw.nodePid()!;
  process.kill(pid, "SIGKILL");
  await waitFor(() => !running(pid), "node death");
}

function events(cw: CwHome, id: number): Array<Record<string, any>> {
  return readFileSync(cw.path("sessions", String(id), "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

describe("sessions running when the node died", () => {
  test("are marked lost with a session.status event, and their dead program is not killable", async () => {
    const cw = home();
    const id = await cw.launch(["bash", "-c", "echo up; sleep 60"], ["doomed"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("up"), "output");
    const pid = (await cw.session(id)).pid as number;
    await crashNode(cw);
    // The terminal's hangup takes the program with the node.
    await waitFor(() => !running(pid), "the program to die with its terminal");

    const s = await cw.session(id); // starts a new node
    expect(s.status).toBe("lost");
    expect(s.orphan_pid).toBeNull();
    const status = events(cw, id).filter((e) => e.type === "session.status");
    expect(status).toHaveLength(1);
    expect(status[0]!.data).toEqual({ status: "lost", exit_code: null, previous: "running" });
    expect(status[0]).toMatchObject({ session_id: id, session_name: "doomed" });

    const k = await cw.run(["kill", "doomed"]);
    expect(k.code).toBe(1);
    expect(k.stderr).toContain("is not running (lost)");
    // Its name is free again.
    expect(await cw.launch(["true"], ["doomed"])).toBe(id + 1);
  });

  test("a recorded pid that now belongs to another process, or that cannot be verified, counts as died", async () => {
    const cw = home();
    // This test process is alive; neither record can prove it is the session's program.
    const base = { command: ["x"], working_dir: "/", tags: [], status: "running", exit_code: null, pid: process.pid, created_at: new Date().toISOString(), completed_at: null };
    writeFileSync(cw.path("sessions.json"), JSON.stringify({ version: 1, sessions: [{ ...base, id: 1, pid_start: "another-boot:1" }, { ...base, id: 2 }] }));
    const list = await cw.list();
    expect(list.map((s) => [s.id, s.status, s.orphan_pid])).toEqual([
      [1, "lost", null],
      [2, "lost", null],
    ]);
    expect(events(cw, 1).map((e) => [e.type, e.data.status])).toEqual([["session.status", "lost"]]);
  });
});

describe("a process that outlives its node", () => {
  test("is shown, keeps its name, and cw kill ends its process group and records it as killed", async () => {
    const cw = home();
    // Ignores the terminal's hangup and SIGTERM (sleep inherits that): only SIGKILL ends it.
    const id = await cw.launch(["sh", "-c", 'trap "" HUP TERM; echo ready; sleep 60; echo woke'], ["keeper"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("ready"), "the trap to be set");
    const pid = (await cw.session(id)).pid as number;
    strays.push(pid);
    await crashNode(cw);
    expect(running(pid)).toBe(true);

    const s = await cw.session(id);
    expect(s.status).toBe("lost");
    expect(s.orphan_pid).toBe(pid);
    expect(JSON.parse(await cw.ok(["status", "keeper", "--json"])).orphan_pid).toBe(pid);
    // People see it too: in the table and in status.
    expect(await cw.ok(["list"])).toContain(`lost (pid ${pid} still runs)`);
    expect(await cw.ok(["status", "keeper"])).toContain(`lost (pid ${pid} still runs)`);
    expect(events(cw, id).find((e) => e.type === "session.status")!.data).toEqual({ status: "lost", exit_code: null, previous: "running", orphan_pid: pid });

    // Its name stays taken while the process lives.
    const taken = await cw.run(["launch", "keeper", "--", "true"]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`process ${pid} still runs`);
    expect(taken.stderr).toContain("cw kill keeper");

    // It still holds after another restart.
    await crashNode(cw);
    expect((await cw.session(id)).orphan_pid).toBe(pid);

    const t0 = Date.now();
    expect(await cw.ok(["kill", "keeper"])).toBe(`killed ${id}\n`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2500); // SIGTERM was ignored: SIGKILL after the grace
    expect(running(pid)).toBe(false);
    expect(await cw.session(id)).toMatchObject({ status: "killed", exit_code: null, orphan_pid: null });
    expect(events(cw, id).filter((e) => e.type === "session.status").map((e) => e.data)).toEqual([
      { status: "lost", exit_code: null, previous: "running", orphan_pid: pid },
      { status: "killed", exit_code: null, previous: "lost" },
    ]);
    expect((await cw.run(["kill", "keeper"])).stderr).toContain("is not running (killed)");
    expect(await cw.launch(["true"], ["keeper"])).toBe(id + 1);
  }, 30_000);

  test("one that ends by itself is no longer shown, and frees its name", async () => {
    const cw = home();
    const stop = cw.path("stop-now");
    // On pipes the node's death sends no hangup at all; the program ends when told to.
    const id = await cw.launch(["sh", "-c", `echo ready; while [ ! -e '${stop}' ]; do sleep 0.05; done`], ["brief", "--no-pty"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("ready"), "start");
    const pid = (await cw.session(id)).pid as number;
    strays.push(pid);
    await crashNode(cw);
    expect((await cw.session(id)).orphan_pid).toBe(pid);
    writeFileSync(stop, "");
    await waitFor(() => !running(pid), "the program to end");
    expect(await cw.session(id)).toMatchObject({ status: "lost", orphan_pid: null });
    expect(await cw.launch(["true"], ["brief"])).toBe(id + 1);
  });
});

describe("a damaged sessions.json", () => {
  const at = "2026-01-02T03:04:05.000Z";
  const good = { id: 1, name: "good", command: ["echo", "a"], working_dir: "/tmp", tags: ["t"], status: "completed", exit_code: 0, pid: 10, created_at: at, completed_at: at, output_bytes: 0, last_output_at: null, cols: 80, rows: 24, terminal: true };

  function asides(cw: CwHome): string[] {
    return readdirSync(cw.dir).filter((f) => f.startsWith("sessions.json.corrupt-"));
  }

  test("keeps every readable session, salvages what it can, drops the rest; a copy and node.log say so; ids move on", async () => {
    const cw = home();
    const original = JSON.stringify({
      version: 1,
      sessions: [
        good,
        { ...good, id: 2, name: "odd", status: "weird" },
        { id: 3, command: ["no-dir-no-date"], status: "killed", exit_code: "x" },
        { id: 4, command: ["minimal"], working_dir: "/", status: "completed", created_at: at },
        "garbage",
        { id: "12", command: ["id-is-a-string"] },
        { ...good, name: "duplicate" },
      ],
    });
    writeFileSync(cw.path("sessions.json"), original);
    const list = await cw.list();
    expect(list.map((s) => [s.id, s.name ?? null, s.status])).toEqual([
      [1, "good", "completed"],
      [2, "odd", "lost"],
      [3, null, "killed"],
      [4, null, "completed"],
    ]);
    expect(list[0]).toMatchObject({ command: ["echo", "a"], working_dir: "/tmp", tags: ["t"], exit_code: 0, created_at: at });
    expect(list[2]).toMatchObject({ command: ["no-dir-no-date"], working_dir: "", exit_code: null });
    expect(Number.isNaN(Date.parse(list[2]!.created_at))).toBe(false);

    const [copy, ...more] = asides(cw);
    expect(more).toEqual([]);
    expect(readFileSync(cw.path(copy!), "utf8")).toBe(original);
    const log = readFileSync(cw.path("node.log"), "utf8");
    expect(log).toContain(cw.path(copy!));
    expect(log).toContain("sessions.json: dropped entry 5 (not an object)");
    expect(log).toContain('sessions.json: dropped entry 6 (no usable id: "12")');
    expect(log).toContain("sessions.json: dropped entry 7 (session 1 again)");
    expect(log).toContain('sessions.json: session 2 salvaged: status "weird" -> "lost"');
    expect(log).toMatch(/sessions\.json: session 3 salvaged: .*working_dir missing -> ""/);
    // The dropped entry's id 12 is not handed out again.
    expect(await cw.launch(["true"])).toBe(13);
  });

  test("an unreadable file is kept aside whole and the node starts empty, saying where the copy is", async () => {
    const cw = home();
    writeFileSync(cw.path("sessions.json"), JSON.stringify({ version: 1, sessions: { 1: good } }));
    mkdirSync(cw.path("sessions", "7"), { recursive: true });
    expect(await cw.list()).toEqual([]);
    const [copy] = asides(cw);
    expect(readFileSync(cw.path("node.log"), "utf8")).toContain(`sessions.json was unreadable`);
    expect(readFileSync(cw.path("node.log"), "utf8")).toContain(cw.path(copy!));
    expect(await cw.launch(["true"])).toBe(8);
  });

  test("a good file is loaded as it is, with no copy and no complaint", async () => {
    const cw = home();
    writeFileSync(cw.path("sessions.json"), JSON.stringify({ version: 1, sessions: [good] }));
    expect((await cw.list()).map((s) => s.id)).toEqual([1]);
    expect(asides(cw)).toEqual([]);
    expect(readFileSync(cw.path("node.log"), "utf8")).not.toContain("sessions.json");
    expect(existsSync(cw.path("sessions", "1"))).toBe(true);
  });
});
