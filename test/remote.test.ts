/**
 * Reaching a node on another machine directly: the node's WebSocket listener (`listen`), its
 * token, `cw server add/list/remove` and `cw --server <name|url> <command>`. Two data dirs stand
 * for two machines: the client's never gets a node of its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { parseListenAddress } from "../src/node/websocket";
import { CW, CwHome, Tmux, waitFor } from "./helpers";

let node: CwHome;
let client: CwHome;
let url: string;
let token: string;
let tmux: Tmux | undefined;

beforeAll(async () => {
  node = new CwHome({ CODEWIRE_LISTEN: "127.0.0.1:0", CW_TEST_MARK: "set-on-node" });
  await node.ok(["start"]);
  const port = await waitFor(() => /listening for remote clients on ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(readFileSync(node.path("node.log"), "utf8"))?.[1], "the node to log its listener");
  url = `ws://127.0.0.1:${port}`;
  token = readFileSync(node.path("token"), "utf8").trim();
  client = new CwHome({ CW_TEST_MARK: "set-on-client" });
  await client.ok(["server", "add", "box", url, "--token", token]);
});
afterAll(async () => {
  await client.cleanup();
  await node.cleanup();
});
afterEach(async () => {
  await tmux?.kill();
  tmux = undefined;
});

/** A raw WebSocket to the node, collecting what it sends back: control messages as text, data as binary. */
async function rawSocket(tok: string) {
  const ws = new WebSocket(`${url}/ws`, { headers: { Authorization: `Bearer ${tok}` } } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const frames: ({ kind: "control"; message: unknown } | { kind: "data"; bytes: Uint8Array })[] = [];
  let closed = false;
  ws.onmessage = (ev) => frames.push(typeof ev.data === "string" ? { kind: "control", message: JSON.parse(ev.data) } : { kind: "data", bytes: new Uint8Array(ev.data as ArrayBuffer) });
  ws.onclose = () => {
    closed = true;
  };
  await waitFor(() => ws.readyState === WebSocket.OPEN, "the WebSocket to open");
  return { ws, frames, isClosed: () => closed };
}

describe("the node's WebSocket listener", () => {
  test("a listen address without a host stays on loopback; a bad one is refused", () => {
    expect(parseListenAddress(":9100")).toEqual({ hostname: "127.0.0.1", port: 9100 });
    expect(parseListenAddress("9100")).toEqual({ hostname: "127.0.0.1", port: 9100 });
    expect(parseListenAddress("0.0.0.0:9100")).toEqual({ hostname: "0.0.0.0", port: 9100 });
    expect(parseListenAddress("[::1]:9100")).toEqual({ hostname: "::1", port: 9100 });
    expect(() => parseListenAddress("somewhere")).toThrow(/host:port/);
    expect(() => parseListenAddress("host:99999")).toThrow(/host:port/);
  });

  test("the token is private to the node's owner, and requests without the right one are refused", async () => {
    expect(statSync(node.path("token")).mode & 0o777).toBe(0o600);
    expect(token.length).toBeGreaterThanOrEqual(40);
    const http = url.replace("ws://", "http://");
    const refused: Record<string, string>[] = [{}, { Authorization: "Bearer wrong-token" }, { Authorization: `Basic ${token}` }];
    for (const headers of refused) {
      const res = await fetch(`${http}/ws`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "unauthorized" });
    }
    // The right token on a plain request: told to upgrade, and nothing else is served.
    expect((await fetch(`${http}/ws`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(426);
    expect((await fetch(`${http}/other`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  test("a node whose listen address is taken says so and does not start", async () => {
    const other = new CwHome({ CODEWIRE_LISTEN: url.replace("ws://", "") });
    try {
      const r = await other.run(["start"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr + readFileSync(other.path("node.log"), "utf8")).toContain(`cannot listen on ${url.replace("ws://", "")}`);
    } finally {
      await other.cleanup();
    }
  });

  test("control travels as JSON text and data as binary; bad input gets an error, and the node keeps serving", async () => {
    const notJson = await rawSocket(token);
    notJson.ws.send("hello");
    await waitFor(() => notJson.isClosed(), "the node to hang up on text that is not JSON");
    expect(notJson.frames[0]).toMatchObject({ kind: "control", message: { type: "Error", code: "bad_request" } });

    const dataFirst = await rawSocket(token);
    dataFirst.ws.send(new Uint8Array([9, 0, 0, 0, 3, 1, 2, 3]));
    await waitFor(() => dataFirst.isClosed(), "the node to hang up on data before a request");
    expect(dataFirst.frames[0]).toMatchObject({ kind: "control", message: { type: "Error", code: "bad_request" } });

    // What the Go client sends: a request as text, then keys as binary; output comes back binary.
    const id = Number((await node.ok(["launch", "--name", "ws-raw", "--", "sh", "-c", "stty raw -echo; exec cat"])).trim());
    const raw = await rawSocket(token);
    raw.ws.send(JSON.stringify({ type: "Attach", protocol: 1, id, history: false, cols: 80, rows: 24 }));
    await waitFor(() => raw.frames.length > 0, "Attached");
    expect(raw.frames[0]).toMatchObject({ kind: "control", message: { type: "Attached" } });
    raw.ws.send(new TextEncoder().encode("ping-over-ws"));
    await waitFor(() => raw.frames.some((f) => f.kind === "data" && new TextDecoder().decode(f.bytes).includes("ping-over-ws")), "the echo as a binary message");
    raw.ws.close();
    await node.ok(["kill", String(id)]);
  });
});

describe("the node's WebSocket listener under garbage", () => {
  test("hundreds of connections sending random text and bytes leave the node serving", async () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const junk = () => {
      const b = new Uint8Array(rand() % 200);
      for (let i = 0; i < b.length; i++) b[i] = rand() & 0xff;
      return b;
    };
    for (let round = 0; round < 20; round++) {
      const conns = await Promise.all(Array.from({ length: 10 }, () => rawSocket(token)));
      for (const c of conns) {
        for (let i = 0; i < 10; i++) {
          const kind = rand() % 3;
          if (kind === 0) c.ws.send(new TextDecoder().decode(junk()));
          else if (kind === 1) c.ws.send(junk());
          else c.ws.send(JSON.stringify({ type: ["Attach", "Launch", "Logs", "Nope"][rand() % 4], id: rand() % 5, protocol: 1 }));
        }
        c.ws.close();
      }
    }
    const good = await rawSocket(token);
    good.ws.send(JSON.stringify({ type: "Ping", protocol: 1 }));
    await waitFor(() => good.frames.length > 0, "a Pong after the garbage");
    expect(good.frames[0]).toMatchObject({ kind: "control", message: { type: "Pong" } });
    good.ws.close();
    expect(JSON.parse(await node.ok(["list", "--json"]))).toBeInstanceOf(Array);
    // Every bad input was refused by design, none reached a failure inside the node.
    expect(readFileSync(node.path("node.log"), "utf8")).not.toMatch(/uncaught|unhandled rejection|internal error/);
  });
});

describe("cw server and cw --server", () => {
  test("servers.toml is private, lists without tokens, and entries can be replaced and removed", async () => {
    expect(statSync(client.path("servers.toml")).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await client.ok(["server", "list", "--json"]))).toEqual([{ name: "box", url: `${url}/ws`, has_token: true }]);
    expect(await client.ok(["server", "list"])).not.toContain(token);
    expect(await client.ok(["server", "add", "spare", "http://127.0.0.1:1/", "--token", "x"])).toContain("saved spare → ws://127.0.0.1:1/ws");
    expect(await client.ok(["server", "add", "spare", "wss://example.test/cw", "--token", "y"])).toContain("updated spare → wss://example.test/cw");
    expect(await client.ok(["server", "remove", "spare"])).toContain("removed spare");
    const again = await client.run(["server", "remove", "spare"]);
    expect(again.code).toBe(3);
    const bad = await client.run(["server", "add", "bad name", url]);
    expect(bad.code).toBe(2);
    const badUrl = await client.run(["server", "add", "x", "ftp://host"]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain("ws://");
  });

  test("launch, list, logs, send, wait and kill run on the remote node, in its environment", async () => {
    const id = Number((await client.ok(["--server", "box", "launch", "--name", "far", "--env", "EXTRA=given", "--", "bash", "-c", 'echo "pwd=$PWD mark=$CW_TEST_MARK extra=$EXTRA"; read line; echo "got $line"'])).trim());
    expect(id).toBeGreaterThan(0);
    const listed = JSON.parse(await client.ok(["--server", "box", "list", "--json"]));
    expect(listed.map((s: { name?: string }) => s.name)).toContain("far");
    // The node's home and environment, not the client's; --env still travels.
    const home = process.env.HOME ?? "";
    await waitFor(async () => (await client.ok(["--server", "box", "logs", "far"])).includes("pwd="), "the first line");
    expect(await client.ok(["--server", "box", "logs", "far"])).toContain(`pwd=${home} mark=set-on-node extra=given`);
    await client.ok(["--server", "box", "send", "far", "over the wire"]);
    expect((await client.run(["--server", "box", "wait", "far", "--timeout", "10"])).code).toBe(0);
    expect(await client.ok(["--server", "box", "logs", "far"])).toContain("got over the wire");
    // The same node answers locally: it is one node, reached two ways.
    expect(JSON.parse(await node.ok(["list", "--json"])).map((s: { id: number }) => s.id)).toContain(id);

    const sleeper = Number((await client.ok(["--server", url, "launch", "--", "sleep", "60"], { env: { CODEWIRE_TOKEN: token } })).trim());
    await client.ok(["--server", "box", "kill", String(sleeper)]);
    await waitFor(async () => JSON.parse(await node.ok(["status", String(sleeper), "--json"])).status === "killed", "the kill");
    // The client machine never started a node of its own.
    expect(existsSync(client.path("codewire.sock"))).toBe(false);
  });

  test("attach over the WebSocket: type, see the echo, detach; the session keeps running", async () => {
    await client.ok(["--server", "box", "launch", "--name", "remote-shell", "--", "bash", "--norc", "--noprofile"]);
    tmux = new Tmux();
    await tmux.start(`${CW} --server box attach remote-shell`, client.env);
    await tmux.type("echo remote-$((40+2))");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("remote-42"), "the echo from the remote shell");
    await tmux.keys("C-b", "d");
    const screen = await tmux.waitScreen((s) => s.includes("[exit 0]"), "attach to end");
    expect(screen).toContain("detached from session");
    expect(JSON.parse(await node.ok(["status", "remote-shell", "--json"])).status).toBe("running");
  });

  test("a wrong token, an unreachable node and an unknown name fail clearly without touching a local node", async () => {
    const wrong = await client.run(["--server", url, "list"], { env: { CODEWIRE_TOKEN: "not-the-token" } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused the token");
    const none = await client.run(["--server", url, "list"], { env: { CODEWIRE_TOKEN: "" } });
    expect(none.stderr).toContain("no token was given");
    const dead = await client.run(["--server", "ws://127.0.0.1:1", "list"]);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toContain("cannot reach ws://127.0.0.1:1");
    expect(dead.stderr).toContain("connection refused");
    const unknown = await client.run(["--server", "nowhere", "list"]);
    expect(unknown.stderr).toContain('no saved server named "nowhere"');
    const local = await client.run(["--server", "box", "stop"]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("--server does not apply");
    expect(existsSync(client.path("codewire.sock"))).toBe(false);
  });

  test("CODEWIRE_SERVER picks the node for every command but the local-only ones", async () => {
    const env = { CODEWIRE_SERVER: "box" };
    expect(JSON.parse(await client.ok(["list", "--json"], { env })).length).toBeGreaterThan(0);
    // `cw server list` is about this machine even with CODEWIRE_SERVER set.
    expect(await client.ok(["server", "list"], { env })).toContain("box");
  });

  test("cw --server box mcp-server gives an agent the remote node's tools", async () => {
    const mcp = new Client({ name: "cw-remote-test", version: "1.0.0" });
    await mcp.connect(new StdioClientTransport({ command: CW, args: ["--server", "box", "mcp-server"], env: client.env, cwd: client.dir, stderr: "pipe" }));
    try {
      const nodes = (await mcp.callTool({ name: "codewire_list_nodes", arguments: {} })).structuredContent as { nodes: { local: boolean; data_dir: string }[] };
      expect(nodes.nodes[0]).toMatchObject({ local: false, current: true, data_dir: node.dir });
      const launched = (await mcp.callTool({ name: "codewire_launch_session", arguments: { command: ["sh", "-c", "echo from-mcp-$((2*21))"], name: "via-mcp" } })).structuredContent as { session: { id: number; working_dir: string } };
      expect(launched.session.working_dir).toBe(process.env.HOME ?? "");
      await waitFor(async () => (await node.ok(["logs", "via-mcp"])).includes("from-mcp-42"), "the session's output on the node");
    } finally {
      await mcp.close();
    }
    expect(existsSync(client.path("codewire.sock"))).toBe(false);
  });
});
