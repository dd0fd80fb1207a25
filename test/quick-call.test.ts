/**
 * The blocking one-request client of short commands (client/quick-call.ts) against peers that
 * misbehave, each in its own process, and against a real node.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { NodeError, NodeUnavailableError } from "../src/client/errors";
import { quickCall } from "../src/client/quick-call";
import { FrameError } from "../src/protocol/frame";
import { CW, CwHome, waitFor } from "./helpers";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cw-quick-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a socket-peer in `mode` and returns its socket path once it listens. */
async function peer(mode: string, sock = join(tempDir(), "peer.sock")): Promise<string> {
  const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "fixtures/socket-peer.ts"), sock, mode], { stdout: "pipe", stderr: "inherit" });
  cleanups.push(() => {
    proc.kill();
    return proc.exited.then(() => undefined);
  });
  const reader = proc.stdout.getReader();
  let text = "";
  await waitFor(async () => {
    const { value, done } = await reader.read();
    if (done) throw new Error(`socket-peer exited: ${text}`);
    text += new TextDecoder().decode(value);
    return text.includes("ready");
  }, "the peer to listen");
  reader.releaseLock();
  return sock;
}

describe("cw list against a node that predates the table request", () => {
  test("it answers with the sessions, and cw list draws the table itself", async () => {
    const home = tempDir();
    await peer("old-node", join(home, "codewire.sock"));
    const r = Bun.spawnSync([CW, "list"], { env: { ...process.env, CODEWIRE_HOME: home, NO_COLOR: "1" } });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.toString().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+COMMAND\s+STATUS\s+STATE\s+AGE\s+TAGS$/);
    // It sent no agent state: none, shown as -.
    expect(lines[1]).toMatch(/^7\s+legacy\s+sleep 60\s+running\s+-\s+1m ago\s+old$/);
  });
});

describe("cw list alone (cli/quick-list.ts, before the command table loads)", () => {
  // Ages are cut to the unit: the two commands may run on either side of a second.
  const rows = (text: string) => text.trimEnd().split("\n").map((l) => l.replace(/\d+s ago/, "Ns ago"));

  test("prints what the ordinary command prints", async () => {
    const cw = new CwHome({ NO_COLOR: "1" });
    cleanups.push(() => cw.cleanup());
    await cw.ok(["launch", "--name", "one", "--tag", "t1", "--", "sleep", "30"]);
    await cw.ok(["launch", "--", "sleep", "31"]);
    const quick = await cw.ok(["list"]);
    // --status takes the ordinary path (the table command), with the same two sessions.
    const ordinary = await cw.ok(["list", "--status", "running"]);
    expect(rows(quick)).toEqual(rows(ordinary));
    expect(rows(quick)).toHaveLength(3);
    expect(quick).toMatch(/^1\s+one\s+sleep 30\s+running\s+-\s+\d+s ago\s+t1$/m);
  });

  test("with no node running it starts one, as every command does", async () => {
    const cw = new CwHome({ NO_COLOR: "1" });
    cleanups.push(() => cw.cleanup());
    const r = await cw.run(["list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no sessions — start one with: cw launch -- <command>");
    // The node it started answers the next command.
    expect((await cw.ok(["list", "--json"])).trim()).toBe("[]");
  });

  test("an error from the node is reported as the ordinary command reports it", async () => {
    const home = tempDir();
    await peer("error", join(home, "codewire.sock"));
    const env = { ...process.env, CODEWIRE_HOME: home, NO_COLOR: "1" };
    const quick = Bun.spawnSync([CW, "list"], { env });
    const ordinary = Bun.spawnSync([CW, "list", "--status", "running"], { env });
    expect(quick.stderr.toString()).toBe("error: no session 42\nhint: cw list shows sessions\n");
    expect(quick.stderr.toString()).toBe(ordinary.stderr.toString());
    expect(quick.exitCode).not.toBe(0);
    expect(quick.exitCode).toBe(ordinary.exitCode);
    expect(quick.stdout.toString()).toBe("");
  });
});

describe("quickCall", () => {
  test("nobody listening: undefined, so the caller can start a node", () => {
    const dir = tempDir();
    expect(quickCall(join(dir, "absent.sock"), { type: "ListSessions" })).toBeUndefined();
    // A stale socket file left by a node that died (connect is refused).
    const stale = join(dir, "stale.sock");
    const l = Bun.listen({ unix: stale, socket: { data() {} } });
    l.stop(true);
    expect(quickCall(stale, { type: "ListSessions" })).toBeUndefined();
    writeFileSync(join(dir, "not-a-socket"), "x");
    expect(quickCall(join(dir, "not-a-socket"), { type: "ListSessions" })).toBeUndefined();
  });

  test("a reply that arrives a byte at a time is put together", async () => {
    const reply = quickCall(await peer("dribble"), { type: "ListSessions" });
    expect(reply).toEqual({ type: "SessionList", sessions: [] });
  });

  test("an Error reply becomes a NodeError with its hint", async () => {
    const sock = await peer("error");
    let caught: unknown;
    try {
      quickCall(sock, { type: "GetStatus", id: 42, recent_lines: 0 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NodeError);
    expect((caught as NodeError).code).toBe("not_found");
    expect((caught as NodeError).hint).toBe("cw list shows sessions");
  });

  test("a node that never answers: a clear error after the timeout, not a hang", async () => {
    const sock = await peer("silent");
    const t0 = performance.now();
    expect(() => quickCall(sock, { type: "ListSessions" }, 300)).toThrow(NodeUnavailableError);
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(5000);
  });

  test("a node that hangs up without answering", async () => {
    const sock = await peer("close");
    expect(() => quickCall(sock, { type: "ListSessions" })).toThrow(/closed the connection without answering/);
  });

  test("a connection dropped before the node read it: a clear error, not a raw errno", async () => {
    const sock = await peer("reset");
    let caught: unknown;
    try {
      quickCall(sock, { type: "ListSessions" });
    } catch (e) {
      caught = e;
    }
    // Reset, or closed in order: the kernel decides which the client sees.
    expect(caught instanceof NodeUnavailableError || caught instanceof NodeError).toBe(true);
    expect((caught as Error).message).toMatch(/broke before it answered|closed the connection without answering/);
  });

  test("a broken frame is refused", async () => {
    const sock = await peer("garbage");
    expect(() => quickCall(sock, { type: "ListSessions" })).toThrow(FrameError);
  });

  test("against a real node: the same answer as the event-driven client", async () => {
    const cw = new CwHome();
    cleanups.push(() => cw.cleanup());
    await cw.ok(["launch", "--name", "quick", "--", "sleep", "30"]);
    const reply = quickCall(cw.path("codewire.sock"), { type: "ListSessions" });
    expect(reply?.type).toBe("SessionList");
    const sessions = (reply as { sessions: { name: string | null; status: string }[] }).sessions;
    expect(sessions.map((s) => [s.name, s.status])).toEqual([["quick", "running"]]);
    const json = JSON.parse(await cw.ok(["list", "--json"]));
    expect(json.map((s: { name: string }) => s.name)).toEqual(["quick"]);
  });
});
