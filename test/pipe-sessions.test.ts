/**
 * Sessions on pipes (`cw launch --no-pty`, Launch with `terminal: false`, what the SSH gateway
 * uses for `ssh relay 'command'` without -t): the program has no terminal, its output is logged
 * byte for byte, input is not echoed, and the end of input is a real end of file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { NodeConnection } from "../src/client/connection";
import { CwHome, running, waitFor } from "./helpers";

async function rawLogs(cw: CwHome, id: number): Promise<number[]> {
  return Array.from(new Uint8Array(await new Response(cw.spawn(["logs", String(id)]).stdout).arrayBuffer()));
}

describe("sessions on pipes", () => {
  let cw: CwHome;
  beforeAll(async () => {
    cw = new CwHome();
    await cw.ok(["start"]);
  });
  afterAll(async () => {
    await cw.cleanup();
  });

  test("input comes back once, byte for byte, and the end of input ends the program", async () => {
    const conn = await NodeConnection.open(cw.path("codewire.sock"));
    conn.send({ type: "Launch", command: ["cat"], terminal: false, cols: 80, rows: 24 });
    const launched = await conn.nextReply();
    if (launched?.type !== "Launched") throw new Error(`launch failed: ${JSON.stringify(launched)}`);
    conn.close();
    const id = launched.session.id;

    const attach = await NodeConnection.open(cw.path("codewire.sock"));
    attach.send({ type: "Attach", id, history: false, cols: 80, rows: 24 });
    expect((await attach.nextReply())?.type).toBe("Attached");
    // CR LF, a lone LF, ^D (data here, not an end), ^C, a NUL and bytes that are not UTF-8.
    const input = [0x61, 0x0d, 0x0a, 0x62, 0x0a, 0x04, 0x03, 0x00, 0xff, 0xfe, 0x63];
    attach.sendData(new Uint8Array(input));
    await waitFor(async () => (await rawLogs(cw, id)).length >= input.length, "cat to copy its input");
    attach.sendControl({ type: "EndInput" });
    const s = await cw.waitStatus(id, "completed");
    expect(s.exit_code).toBe(0);
    expect(await rawLogs(cw, id)).toEqual(input);
    attach.close();
  });

  test("cw launch --no-pty: no terminal, stdout and stderr both logged, plain LF", async () => {
    const id = await cw.launch(["sh", "-c", "[ -t 0 ] || echo in:pipe; [ -t 1 ] || echo out:pipe; echo to-stderr >&2"], ["--no-pty"]);
    await cw.waitStatus(id, "completed");
    const log = Buffer.from(await rawLogs(cw, id)).toString("latin1");
    // list and status say so; a session on a terminal says the opposite.
    expect((await cw.session(id)).terminal).toBe(false);
    expect((await cw.list()).find((x) => x.id === id)?.terminal).toBe(false);
    expect(log).toContain("in:pipe\nout:pipe\n");
    expect(log).toContain("to-stderr\n");
    expect(log).not.toContain("\r");
  });

  test("the node gives TERM to a terminal that lacks one, never to pipes", async () => {
    const term = async (terminal: boolean) => {
      const conn = await NodeConnection.open(cw.path("codewire.sock"));
      conn.send({ type: "Launch", command: ["sh", "-c", 'echo "term:[${TERM-unset}]"'], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, terminal, cols: 80, rows: 24 });
      const r = await conn.nextReply();
      conn.close();
      if (r?.type !== "Launched") throw new Error(`launch failed: ${JSON.stringify(r)}`);
      await cw.waitStatus(r.session.id, "completed");
      return cw.ok(["logs", String(r.session.id)]);
    };
    expect(await term(false)).toContain("term:[unset]");
    expect(await term(true)).toContain("term:[xterm-256color]");
    expect((await cw.list()).filter((x) => x.terminal).length).toBeGreaterThan(0);
  });

  test("its screen treats each LF as a new line (cw screen, and what attach paints)", async () => {
    const id = await cw.launch(["sh", "-c", 'printf "alpha\\nbeta\\n"; sleep 30'], ["--no-pty"]);
    const screen = await waitFor(async () => {
      const text = await cw.ok(["screen", String(id)]);
      return text.includes("beta") ? text : undefined;
    }, "the screen to show the output");
    expect(screen.split("\n").slice(0, 2)).toEqual(["alpha", "beta"]);
    await cw.ok(["kill", String(id)]);
  });

  test("cw send reaches it; kill reaches its whole process group", async () => {
    const id = await cw.launch(["sh", "-c", "sleep 300 & echo child:$!; read line; echo got:$line; wait"], ["--no-pty"]);
    const m = await waitFor(async () => /child:(\d+)/.exec(await cw.ok(["logs", String(id)])), "the child's pid");
    await cw.ok(["send", String(id), "hello"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("got:hello"), "the input to arrive");
    await cw.ok(["kill", String(id)]);
    await cw.waitStatus(id, "killed");
    await waitFor(() => !running(Number(m[1])), "the background child to be gone too");
  });

  test("input to a program that closed its stdin is dropped without an error in the node", async () => {
    const id = await cw.launch(["sh", "-c", "exec 0<&-; echo closed; sleep 30"], ["--no-pty"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("closed"), "stdin to be closed");
    for (let i = 0; i < 3; i++) await cw.ok(["send", String(id), `into a closed pipe ${i}`]);
    await cw.ok(["send", String(id), "--stdin"], { stdin: "x".repeat(1 << 20) });
    expect((await cw.session(id)).status).toBe("running");
    expect(readFileSync(cw.path("node.log"), "utf8")).not.toMatch(/unhandled|EPIPE/i);
    await cw.ok(["kill", String(id)]);
  });

  test("a program a signal ends has exit code 128 + the signal, as a shell reports it", async () => {
    const id = await cw.launch(["sh", "-c", "kill -KILL $$"], ["--no-pty"]);
    expect((await cw.waitStatus(id, "completed")).exit_code).toBe(137);
  });

  test("a program that ends while a background child keeps its pipes open still ends", async () => {
    const id = await cw.launch(["sh", "-c", "sleep 300 & echo started"], ["--no-pty"]);
    const s = await cw.waitStatus(id, "completed", 5_000);
    expect(s.exit_code).toBe(0);
    expect(await cw.ok(["logs", String(id)])).toContain("started");
  });
});
