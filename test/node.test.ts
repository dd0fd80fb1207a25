/** The node itself: start/stop, one per data dir, permissions, crash recovery, bounded logs. */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CW, CwHome, waitFor } from "./helpers";

let homes: CwHome[] = [];
function home(env?: Record<string, string>) {
  const h = new CwHome(env);
  homes.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(homes.map((h) => h.cleanup()));
  homes = [];
});

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("node lifecycle", () => {
  test("start, a second node refuses, stop; data dir 0700 and socket 0600", async () => {
    const cw = home();
    expect(await cw.ok(["start"])).toContain("node started");
    const pid = cw.nodePid()!;
    expect(alive(pid)).toBe(true);
    expect(statSync(cw.dir).mode & 0o777).toBe(0o700);
    expect(statSync(cw.path("codewire.sock")).mode & 0o777).toBe(0o600);
    expect(await cw.ok(["start"])).toContain("already running");
    const second = await cw.run(["node"], { timeoutMs: 10_000 });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`already running for this data directory (pid ${pid})`);
    expect(await cw.ok(["stop"])).toContain("node stopped");
    await waitFor(() => !alive(pid), "node exit");
    expect(existsSync(cw.path("codewire.pid"))).toBe(false);
    expect(await cw.ok(["stop"])).toContain("no node is running");
  });

  test("everything the node keeps is this user's alone: files 0600, directories 0700, older files put right", async () => {
    const cw = home();
    // Databases an older cw made with the umask's mode, and a -wal its crash left behind.
    for (const f of ["messages.db", "peers.db", "peers.db-wal"]) writeFileSync(cw.path(f), "");
    for (const f of ["messages.db", "peers.db", "peers.db-wal"]) chmodSync(cw.path(f), 0o644);
    const s = await cw.launch(["bash", "-c", "echo hi; sleep 60"], ["keeper"]);
    await cw.ok(["msg", "keeper", "a message is the user's"]);
    await cw.ok(["kv", "set", "k", "a value is the user's"]);
    await cw.ok(["id"]);
    expect(await cw.ok(["logs", String(s)])).toContain("hi");
    const seen: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        const mode = statSync(p).mode & 0o777;
        seen.push(e.name);
        if (e.isDirectory()) {
          expect({ p, mode }).toEqual({ p, mode: 0o700 });
          walk(p);
        } else expect({ p, mode }).toEqual({ p, mode: 0o600 });
      }
    };
    walk(cw.dir);
    // The files this is about were there to be checked (the WAL files while the node runs).
    for (const f of ["messages.db", "messages.db.log", "messages.db-wal", "peers.db", "peers.db-wal", "kv.db", "kv.db-wal", "identity.pem", "codewire.sock", "output.log"]) expect(seen).toContain(f);
  });

  test("a pid file left by a crash, naming a process that is no node, does not block the next node", async () => {
    const cw = home();
    // After a crash and a reboot the old pid often belongs to another program by then.
    const other = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(cw.path("codewire.pid"), `${other.pid}\n`);
      expect(await cw.ok(["start"])).toContain("node started");
      const pid = cw.nodePid()!;
      expect(pid).not.toBe(other.pid);
      expect(alive(pid)).toBe(true);
      // The new node holds the directory as any node does.
      const second = await cw.run(["node"], { timeoutMs: 10_000 });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(`already running for this data directory (pid ${pid})`);
      expect(alive(other.pid)).toBe(true);
    } finally {
      other.kill("SIGKILL");
    }
  });

  test("commands auto-start the node; the node's log goes to a file", async () => {
    const cw = home();
    expect(cw.nodePid()).toBeUndefined();
    expect(await cw.list()).toEqual([]);
    expect(cw.nodePid()).toBeGreaterThan(0);
    expect(readFileSync(cw.path("node.log"), "utf8")).toContain("listening on");
  });

  test("a node that cannot start is reported clearly", async () => {
    const cw = home();
    writeFileSync(cw.path("config.toml"), "[node\nname = ");
    const t0 = Date.now();
    const r = await cw.run(["list"], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    // The client notices the node exiting instead of waiting out its deadline.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.stderr).toContain("the node exited while starting");
    expect(r.stderr).toContain("config.toml");
  });

  test("graceful stop ends running sessions and records them as killed; ids are never reused", async () => {
    const cw = home();
    const a = await cw.launch(["sleep", "60"]);
    const b = await cw.launch(["bash", "-c", "echo kept-output"]);
    await cw.waitStatus(b, "completed");
    await cw.ok(["stop"]);
    const list = await cw.list(); // auto-starts a fresh node
    expect(list.find((s) => s.id === a)!.status).toBe("killed");
    expect(list.find((s) => s.id === b)!.status).toBe("completed");
    expect(await cw.ok(["logs", String(b)])).toContain("kept-output");
    const c = await cw.launch(["true"]);
    expect(c).toBe(b + 1);
  });
});

describe("crash recovery", () => {
  test("after kill -9 every session, its log and events survive; running ones say they were lost", async () => {
    const cw = home();
    const done = await cw.launch(["bash", "-c", "echo before-crash; exit 5"], ["finished", "--tag", "x"]);
    await cw.waitStatus(done, "completed");
    const running = await cw.launch(["bash", "-c", "echo still-running; sleep 60"], ["runner"]);
    await waitFor(async () => (await cw.ok(["logs", String(running)])).includes("still-running"), "output");
    const pid = cw.nodePid()!;
    process.kill(pid, "SIGKILL");
    await waitFor(() => !alive(pid), "node death");

    const list = await cw.list();
    const f = list.find((s) => s.id === done)!;
    expect(f).toMatchObject({ status: "completed", exit_code: 5, name: "finished", tags: ["x"] });
    const r = list.find((s) => s.id === running)!;
    expect(r.status).toBe("lost");
    expect(await cw.ok(["logs", "runner"])).toContain("still-running");
    const events = readFileSync(cw.path("sessions", String(done), "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toContain("session.created");
    expect(events.find((e) => e.type === "session.status")!.data.exit_code).toBe(5);
    // New ids continue after the crash.
    expect(await cw.launch(["true"])).toBe(running + 1);
  });

  test("a corrupt sessions.json is kept aside and the node starts", async () => {
    const cw = home();
    const a = await cw.launch(["true"]);
    await cw.waitStatus(a, "completed");
    const pid = cw.nodePid()!;
    process.kill(pid, "SIGKILL");
    await waitFor(() => !alive(pid), "node death");
    writeFileSync(cw.path("sessions.json"), "{ not json");
    expect(await cw.list()).toEqual([]);
    expect(readdirSync(cw.dir).some((f) => f.startsWith("sessions.json.corrupt-"))).toBe(true);
    expect(readFileSync(cw.path("node.log"), "utf8")).toContain("unreadable");
    // The id counter still moves forward.
    expect(await cw.launch(["true"])).toBeGreaterThan(a);
  });
});

describe("bounded logs", () => {
  test("output beyond the cap is rotated away; tail and status still read the end", async () => {
    // 0.25 MiB cap: two files of at most 128 KiB each.
    const cw = home({ CODEWIRE_LOG_MAX_MIB: "0.25" });
    const id = await cw.launch(["bash", "-c", 'for i in $(seq 1 40000); do echo "row $i"; done']);
    await cw.waitStatus(id, "completed", 20_000);
    const dir = cw.path("sessions", String(id));
    const sizes = readdirSync(dir).filter((f) => f.startsWith("output.log")).map((f) => statSync(`${dir}/${f}`).size);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(256 * 1024);
    const tail = (await cw.ok(["logs", String(id), "--tail", "2"])).trim().split(/\r?\n/);
    expect(tail).toEqual(["row 39999", "row 40000"]);
    const s = await cw.session(id);
    expect(s.output_bytes).toBeGreaterThan(400_000); // offsets count everything ever printed
    const st = JSON.parse(await cw.ok(["status", String(id), "--json"]));
    expect(st.recent_output.trim().split("\n").at(-1)).toBe("row 40000");
    const all = await cw.ok(["logs", String(id)]);
    expect(all.length).toBeLessThanOrEqual(256 * 1024);
    expect(all).not.toContain("row 1\r\n");
  });
});

test("the binary exists", () => {
  expect(existsSync(CW)).toBe(true);
});
