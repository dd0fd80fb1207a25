/**
 * Both terminal backends (Bun's own PTY, the default, and bun-pty, `CODEWIRE_PTY=bun-pty`) behave
 * the same to a user: every byte of output in order and the exit status, input, the session's
 * environment and directory, resize, signals to the whole process group, a clear error when the
 * command does not exist, and an end even when a background child keeps the terminal open.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { NodeConnection } from "../src/client/connection";
import { CwHome, running, waitFor } from "./helpers";

for (const backend of ["bun-pty", "bun"] as const) {
  describe(`terminals from ${backend}`, () => {
    let cw: CwHome;
    beforeAll(async () => {
      cw = new CwHome({ CODEWIRE_PTY: backend });
      // The node has a variable of its own that no client has: it must reach no session.
      const started = await cw.run(["start"], { env: { CW_TEST_NODE_ONLY: "from-the-node" } });
      expect(started.code).toBe(0);
    });
    afterAll(async () => {
      await cw.cleanup();
    });

    test("the node says which backend it runs", () => {
      const log = readFileSync(cw.path("node.log"), "utf8");
      expect(log).toContain(backend === "bun" ? "terminals: Bun's own PTY" : "terminals: bun-pty");
    });

    test("all output in order, then the exit status", async () => {
      const id = await cw.launch(["bash", "-c", "for i in $(seq 1 20000); do echo line-$i; done; printf '\\xff\\xfe-raw'; exit 3"]);
      const s = await cw.waitStatus(id, "completed", 20_000);
      expect(s.exit_code).toBe(3);
      const raw = new Uint8Array(await new Response(cw.spawn(["logs", String(id)]).stdout).arrayBuffer());
      const text = new TextDecoder("latin1").decode(raw);
      const lines = text.split("\r\n");
      expect(lines.slice(0, 20000)).toEqual(Array.from({ length: 20000 }, (_, i) => `line-${i + 1}`));
      // Bytes that are not UTF-8 come through as they were.
      expect(Array.from(raw.subarray(raw.length - 6))).toEqual([0xff, 0xfe, 0x2d, 0x72, 0x61, 0x77]);
    });

    test("input, the session's environment and directory", async () => {
      const id = await cw.launch(["bash", "-c", 'echo "env:$CW_SESSION_NAME:$TERM:$PWD:$EXTRA"; read x; echo "got:$x"'], ["--name", `env-${backend.replace("-", "")}`, "--dir", "/tmp", "--env", "EXTRA=yes", "--env", "TERM=screen-256color"]);
      await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("env:"), "the first line");
      await cw.ok(["send", String(id), "hello"]);
      await cw.waitStatus(id, "completed");
      const out = await cw.ok(["logs", String(id)]);
      expect(out).toContain(`env:env-${backend.replace("-", "")}:screen-256color:/tmp:yes`);
      expect(out).toContain("got:hello");
    });

    test("the node runs with its own GC pace, set in the environment it was executed with", async () => {
      const pid = Number(readFileSync(cw.path("codewire.pid"), "utf8").trim());
      // The environment it was executed with (unsetenv later does not change this file).
      const environ = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      expect(environ).toContain("BUN_GC_TIMER_INTERVAL=30000");
    });

    test("a session gets the caller's environment, not the node's", async () => {
      // Neither the node's own variable nor the runtime settings it re-executed itself with.
      const show = ["bash", "-c", 'echo "node:[$CW_TEST_NODE_ONLY$BUN_GC_TIMER_INTERVAL$CODEWIRE_NODE_RUNTIME] caller:[$CW_TEST_CALLER]"'];
      for (const value of ["first", "second"]) {
        const r = await cw.run(["launch", "--", ...show], { env: { CW_TEST_CALLER: value } });
        expect(r.code).toBe(0);
        const id = Number(r.stdout.trim());
        await cw.waitStatus(id, "completed");
        // Twice: the node's own environment is back in place between two launches.
        expect(await cw.ok(["logs", String(id)])).toContain(`node:[] caller:[${value}]`);
      }
    });

    test("a program a signal ends: 128 + the signal on Bun's PTY; bun-pty's library says only 1", async () => {
      const id = await cw.launch(["sh", "-c", "kill -TERM $$"]);
      expect((await cw.waitStatus(id, "completed")).exit_code).toBe(backend === "bun" ? 143 : 1);
    });

    test("resize reaches the program (SIGWINCH, new size)", async () => {
      const id = await cw.launch(["bash", "-c", "trap 'echo size:$(stty size)' WINCH; echo ready; while :; do sleep 0.05; done"]);
      await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("ready"), "ready");
      const conn = await NodeConnection.open(cw.path("codewire.sock"));
      conn.send({ type: "Attach", id, history: false, cols: 101, rows: 31 });
      expect((await conn.nextReply())?.type).toBe("Attached");
      await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("size:31 101"), "the attach size");
      conn.sendControl({ type: "Resize", cols: 77, rows: 19 });
      await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("size:19 77"), "the new size");
      conn.close();
      await cw.ok(["kill", String(id)]);
    });

    test("kill reaches the whole process group; the status says killed", async () => {
      const id = await cw.launch(["bash", "-c", "sleep 300 & echo child:$!; wait"]);
      const out = await waitFor(async () => /child:(\d+)/.exec(await cw.ok(["logs", String(id)])), "the child's pid");
      const child = Number(out[1]);
      await cw.ok(["kill", String(id)]);
      await cw.waitStatus(id, "killed");
      await waitFor(() => !running(child), "the background child to be gone too");
    });

    test("a command that does not exist: a clear error, no session", async () => {
      const before = (await cw.list()).length;
      const r = await cw.run(["launch", "--", "/nonexistent/program"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("could not start");
      expect((await cw.list()).length).toBe(before);
    });

    test("a background process holding the terminal does not keep the session running", async () => {
      const id = await cw.launch(["bash", "-c", "sleep 60 & echo started; exit 0"]);
      const s = await cw.waitStatus(id, "completed", 5000);
      expect(s.exit_code).toBe(0);
      expect(await cw.ok(["logs", String(id)])).toContain("started");
    });
  });
}

test("an unknown CODEWIRE_PTY is refused with the values to use", async () => {
  const cw = new CwHome({ CODEWIRE_PTY: "tmux" });
  try {
    const r = await cw.run(["node"], { timeoutMs: 10_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toContain("CODEWIRE_PTY=tmux: use bun-pty or bun");
  } finally {
    await cw.cleanup();
  }
});

test("by default terminals come from Bun's own PTY where Bun has one (issue 14: no polling, no threads per session)", async () => {
  const cw = new CwHome({ CODEWIRE_PTY: "" });
  try {
    expect((await cw.run(["start"])).code).toBe(0);
    const log = readFileSync(cw.path("node.log"), "utf8");
    expect(log).toContain(process.platform === "win32" ? "terminals: bun-pty" : "terminals: Bun's own PTY");
  } finally {
    await cw.cleanup();
  }
});
