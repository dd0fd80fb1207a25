/** Launch, list, logs, send, status, kill, wait: the session lifecycle through the real binary. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { capture, CwHome, waitFor } from "./helpers";

let cw: CwHome;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});

describe("launch", () => {
  test("prints the new id, auto-starts the node, and passes env, dir and session identity", async () => {
    // A caller without a usable terminal type (a script, an agent) still gives the session one.
    const r = await cw.run(["launch", "envcheck", "--env", "FOO=bar baz", "--dir", "/tmp", "--", "bash", "-c", 'echo "id=$CW_SESSION_ID name=$CW_SESSION_NAME foo=$FOO term=$TERM pwd=$(pwd)"'], { env: { TERM: "dumb" } });
    const id = Number(r.stdout.trim());
    expect(id).toBeGreaterThan(0);
    await cw.waitStatus(id, "completed");
    const out = await cw.ok(["logs", String(id)]);
    expect(out).toContain(`id=${id} name=envcheck foo=bar baz term=xterm-256color pwd=/tmp`);
  });

  test("passes the caller's environment", async () => {
    const id = await cw.launch(["bash", "-c", "echo marker=$CW_TEST_MARKER"], []);
    await cw.waitStatus(id, "completed");
    // The launch above ran with the harness env; a new variable in the caller reaches the session:
    const r = await cw.run(["launch", "--", "bash", "-c", "echo caller=$CALLER_ONLY"], { env: { CALLER_ONLY: "yes-1" } });
    const id2 = Number(r.stdout.trim());
    await cw.waitStatus(id2, "completed");
    expect(await cw.ok(["logs", String(id2)])).toContain("caller=yes-1");
  });

  test("rejects bad names, duplicate live names and a missing command", async () => {
    const bad = await cw.run(["launch", "bad_name!", "--", "true"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("invalid session name");
    const long = await cw.run(["launch", "a".repeat(33), "--", "true"]);
    expect(long.code).toBe(2);
    const none = await cw.run(["launch", "x"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("put the command after --");

    const id = await cw.launch(["sleep", "30"], ["dup"]);
    const dup = await cw.run(["launch", "dup", "--", "true"]);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain("already named dup");
    await cw.ok(["kill", String(id)]);
    // Once the first is gone the name is free again.
    const again = await cw.launch(["true"], ["dup"]);
    expect(again).toBeGreaterThan(id);
  });

  test("a command that does not exist is reported, and the node keeps serving", async () => {
    const r = await cw.run(["launch", "--", "/nonexistent/program-xyz"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/could not start/);
    // Nothing is left half-made: no session listed, no directory.
    expect((await cw.list()).some((s) => s.command[0] === "/nonexistent/program-xyz")).toBe(false);
    const bad = await cw.run(["launch", "--dir", "/nonexistent-dir", "--", "true"]);
    expect(bad.stderr).toContain("does not exist");
    expect(Array.isArray(await cw.list())).toBe(true);
  });
});

describe("list", () => {
  test("--json is an array with status, exit code and age; --status and --tag filter", async () => {
    const ok = await cw.launch(["true"], ["--tag", "lt"]);
    const fail = await cw.launch(["bash", "-c", "exit 7"], ["--tag", "lt"]);
    const run = await cw.launch(["sleep", "30"], ["--tag", "lt2"]);
    await cw.waitStatus(ok, "completed");
    const failed = await cw.waitStatus(fail, "completed");
    expect(failed.exit_code).toBe(7);
    const all = await cw.list();
    expect(all.find((s) => s.id === run)!.status).toBe("running");
    const running = JSON.parse(await cw.ok(["list", "--status", "running", "--json"]));
    expect(running.every((s: any) => s.status === "running")).toBe(true);
    const tagged = JSON.parse(await cw.ok(["list", "--tag", "lt", "--json"]));
    expect(tagged.map((s: any) => s.id).sort()).toEqual([ok, fail].sort());
    const table = await cw.ok(["list"]);
    expect(table).toMatch(new RegExp(`${fail}\\s+-\\s+bash -c 'exit 7'\\s+completed \\(7\\)\\s+-\\s+\\d+s ago`));
    // Colours only when asked for (FORCE_COLOR here, a TTY in real use): green running, red a
    // failure, plain a clean exit, yellow killed; NO_COLOR wins.
    const coloured = (await cw.run(["list"], { env: { NO_COLOR: "", FORCE_COLOR: "1" } })).stdout;
    const line = (id: number, text: string) => text.split("\n").find((l) => l.startsWith(`${id} `)) ?? "";
    expect(line(run, coloured)).toContain("\x1b[32mrunning\x1b[0m");
    expect(line(fail, coloured)).toContain("\x1b[31mcompleted (7)\x1b[0m");
    expect(line(ok, coloured)).toMatch(/ completed \(0\) /);
    expect(line(ok, coloured)).not.toContain("\x1b[3");
    expect(table).not.toContain("\x1b");
    await cw.ok(["kill", String(run)]);
    const killed = await cw.waitStatus(run, "killed");
    expect(killed.status).toBe("killed");
    expect(line(run, (await cw.run(["list"], { env: { NO_COLOR: "", FORCE_COLOR: "1" } })).stdout)).toContain("\x1b[33mkilled\x1b[0m");
    const bad = await cw.run(["list", "--status", "sleeping"]);
    expect(bad.code).toBe(2);
  });
});

describe("logs, send, status", () => {
  test("send types into the session; logs --tail reads the last lines; status shows recent output", async () => {
    const id = await cw.launch(["bash", "-c", 'for i in $(seq 1 500); do echo "line $i"; done; read x; echo "got:$x"; read y; echo "got2:$y"'], ["talker"]);
    await waitFor(async () => (await cw.ok(["logs", "talker"])).includes("line 500"), "500 lines");
    await cw.ok(["send", "talker", "hello there"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("got:hello there"), "echoed input");
    await cw.ok(["send", String(id), "--stdin"], { stdin: "from stdin\n" });
    await cw.waitStatus(id, "completed");
    const tail = await cw.ok(["logs", String(id), "--tail", "3"]);
    // The terminal echoes typed input, so "from stdin" appears as its own line.
    expect(tail.trim().split(/\r?\n/)).toEqual(["got:hello there", "from stdin", "got2:from stdin"]);
    expect(tail).not.toContain("line 400");
    const st = JSON.parse(await cw.ok(["status", String(id), "--json"]));
    expect(st.status).toBe("completed");
    expect(st.exit_code).toBe(0);
    expect(st.recent_output).toContain("got2:from stdin");
    expect(st.output_bytes).toBeGreaterThan(4000);
    const human = await cw.ok(["status", "talker"]);
    expect(human).toContain("completed (0)");
  });

  test("a session that prints nothing still has its output.log, the path status shows", async () => {
    const id = await cw.launch(["true"]);
    await cw.waitStatus(id, "completed");
    const log = cw.path("sessions", String(id), "output.log");
    expect(statSync(log).size).toBe(0);
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expect(await cw.ok(["status", String(id)])).toContain(log);
    expect(await cw.ok(["logs", String(id)])).toBe("");
  });

  test("logs --follow streams and stops by itself when the session ends", async () => {
    const id = await cw.launch(["bash", "-c", "echo start; read x; echo after-$x; exit 3"]);
    const f = cw.spawn(["logs", String(id), "--follow"]);
    const seen = capture(f.stdout);
    await waitFor(() => seen.text.includes("start"), "start in follow");
    await cw.ok(["send", String(id), "go"]);
    const code = await Promise.race([f.exited, Bun.sleep(10_000).then(() => "hung")]);
    await seen.done;
    expect(code).toBe(0);
    expect(seen.text).toContain("after-go");
  });

  test("unknown sessions get a clear error and exit 3", async () => {
    for (const args of [["logs", "999"], ["status", "nosuch"], ["kill", "999"], ["send", "999", "x"], ["wait", "999"]]) {
      const r = await cw.run(args);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("no session");
      expect(r.stderr).toContain("cw list");
    }
    const r = await cw.run(["logs", "bad name"]);
    expect(r.code).toBe(2);
  });
});

describe("kill and wait", () => {
  test("kill by tag and --all; killed sessions stay killed", async () => {
    const a = await cw.launch(["sleep", "60"], ["--tag", "kt"]);
    const b = await cw.launch(["sleep", "60"], ["--tag", "kt"]);
    const c = await cw.launch(["sleep", "60"]);
    const out = await cw.ok(["kill", "--tag", "kt"]);
    expect(out).toContain(`${a}`);
    expect((await cw.session(a)).status).toBe("killed");
    expect((await cw.session(b)).status).toBe("killed");
    expect((await cw.session(c)).status).toBe("running");
    await cw.ok(["kill", "--all"]);
    expect((await cw.session(c)).status).toBe("killed");
    // A program that ignores SIGTERM and SIGHUP is still ended.
    const stubborn = await cw.launch(["bash", "-c", "trap '' TERM HUP; echo ready; while :; do sleep 0.1; done"]);
    await waitFor(async () => (await cw.ok(["logs", String(stubborn)])).includes("ready"), "trap set");
    await cw.ok(["kill", String(stubborn)]);
    expect((await cw.session(stubborn)).status).toBe("killed");
  });

  test("wait exits 0 when all succeed, 1 when any failed, 124 on timeout", async () => {
    const a = await cw.launch(["bash", "-c", "sleep 0.3"], ["--tag", "w1"]);
    const b = await cw.launch(["bash", "-c", "sleep 0.5"], ["--tag", "w1"]);
    const r = await cw.run(["wait", "--tag", "w1", "--condition", "all"]);
    expect(r.code).toBe(0);
    expect((await cw.session(a)).status).toBe("completed");
    expect((await cw.session(b)).status).toBe("completed");

    const f = await cw.launch(["bash", "-c", "sleep 0.2; exit 4"], ["--tag", "w2"]);
    await cw.launch(["bash", "-c", "sleep 0.2"], ["--tag", "w2"]);
    const r2 = await cw.run(["wait", "--tag", "w2", "--json"]);
    expect(r2.code).toBe(1);
    expect(JSON.parse(r2.stdout).sessions.find((s: any) => s.id === f).exit_code).toBe(4);

    const slow = await cw.launch(["sleep", "30"], ["--tag", "w3"]);
    const fast = await cw.launch(["bash", "-c", "sleep 0.2"], ["--tag", "w3"]);
    const any = await cw.run(["wait", "--tag", "w3", "--condition", "any", "--timeout", "20"]);
    expect(any.code).toBe(0);
    expect((await cw.session(fast)).status).toBe("completed");
    const t0 = Date.now();
    const to = await cw.run(["wait", String(slow), "--timeout", "0.5"]);
    expect(to.code).toBe(124);
    expect(Date.now() - t0).toBeLessThan(5000);
    await cw.ok(["kill", String(slow)]);
    const killedWait = await cw.run(["wait", String(slow)]);
    expect(killedWait.code).toBe(1);
  });
});
