/**
 * The relay end to end with the compiled binary: `cw relay`, nodes registered with `cw setup`
 * (admin token or invite) holding outbound WebSockets, `cw nodes`, `node:id` addressing for the
 * session commands, attach through the relay (tmux), the shared KV, and what happens when a
 * node or the relay goes away. Each data dir stands for one machine.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, statSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CW, CwHome, capture, RelayProcess, Tmux, waitFor } from "./helpers";

let relay: RelayProcess;
let dev1: CwHome;
let dev2: CwHome;
let tmux: Tmux | undefined;

async function online(from: CwHome, name: string, want = true) {
  return waitFor(async () => {
    const r = await from.run(["nodes", "--json"]);
    if (r.code !== 0) return undefined;
    const n = (JSON.parse(r.stdout) as { name: string; connected: boolean }[]).find((x) => x.name === name);
    return n && n.connected === want ? n : undefined;
  }, `${name} to be ${want ? "online" : "offline"}`, 15_000);
}

beforeAll(async () => {
  relay = new RelayProcess();
  await relay.start();
  dev1 = new CwHome();
  dev2 = new CwHome();
  expect(await dev1.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "dev-1"])).toContain("connected");
  expect(await dev2.ok(["setup", relay.url, "--name", "dev-2"], { env: { CW_AUTH_TOKEN: relay.adminToken! } })).toContain("connected");
});
afterAll(async () => {
  await dev1?.cleanup();
  await dev2?.cleanup();
  await relay?.cleanup();
});
afterEach(async () => {
  await tmux?.kill();
  tmux = undefined;
});

describe("registering nodes", () => {
  test("the node token is kept private on the node and only as a hash on the relay", async () => {
    expect(statSync(dev1.path("relay.toml")).mode & 0o777).toBe(0o600);
    const token = /token = "([^"]+)"/.exec(readFileSync(dev1.path("relay.toml"), "utf8"))![1]!;
    const db = new Database(relay.path("data", "relay.db"), { readonly: true });
    const dump = JSON.stringify(db.query("SELECT * FROM nodes").all(), (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));
    db.close();
    expect(dump).toContain("dev-1");
    expect(dump).not.toContain(token);
    expect(readFileSync(relay.path("data", "relay.db")).includes(Buffer.from(token))).toBe(false);
  });

  test("cw nodes lists every node, online, with this machine marked", async () => {
    const nodes = JSON.parse(await dev2.ok(["nodes", "--json"])) as { name: string; connected: boolean; this_machine: boolean }[];
    expect(nodes.map((n) => [n.name, n.connected, n.this_machine])).toEqual([
      ["dev-1", true, false],
      ["dev-2", true, true],
    ]);
    expect(await dev2.ok(["nodes"])).toMatch(/dev-2 \*\s+online/);
  });

  test("a wrong admin token, a used invite and a bad name are refused and write nothing", async () => {
    const other = new CwHome();
    try {
      const wrong = await other.run(["setup", relay.url, "--token", "not-the-admin-token", "--name", "dev-x"]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain("relay:");
      expect(existsSync(other.path("relay.toml"))).toBe(false);

      const { json } = await relay.api("POST", "/api/v1/invites", { uses: 1 });
      expect(await other.ok(["setup", relay.url, "--invite", json.invite, "--name", "dev-3"])).toContain("registered dev-3");
      const again = new CwHome();
      try {
        const reused = await again.run(["setup", relay.url, "--invite", json.invite, "--name", "dev-4"]);
        expect(reused.code).toBe(1);
        expect(reused.stderr).toMatch(/invite/);
        expect(existsSync(again.path("relay.toml"))).toBe(false);
      } finally {
        await again.cleanup();
      }
      const badName = await other.run(["setup", relay.url, "--token", relay.adminToken!, "--name", "no:colons"]);
      expect(badName.code).toBe(2);
    } finally {
      await other.cleanup();
      await relay.api("DELETE", "/api/v1/nodes/dev-3");
    }
  });
});

describe("the device flow: cw setup without a token", () => {
  /** Runs `cw setup` for `name` on a fresh machine and returns it with the code it printed. */
  async function ask(name: string) {
    const machine = new CwHome();
    const setup = machine.spawn(["setup", relay.url, "--name", name]);
    const said = capture(setup.stderr as ReadableStream<Uint8Array>);
    const code = await waitFor(() => /enter ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(said.text)?.[1], "setup to print a code");
    return { machine, setup, said, code };
  }

  /** What a browser sends from the relay's /device page. */
  const form = (code: string, token: string, action: string) =>
    fetch(`${relay.url}/device`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ user_code: code, token, action }).toString() });

  test("the operator approves the code in the browser page and the node joins", async () => {
    const { machine, setup, said, code } = await ask("dev-device");
    try {
      expect(said.text).toContain(`${relay.url}/device?code=${code}`);
      const page = await (await fetch(`${relay.url}/device?code=${code}`)).text();
      expect(page).toContain("dev-device");
      expect((await form(code, "not-the-admin-token", "approve")).status).toBe(401);
      const approved = await form(code, relay.adminToken!, "approve");
      expect(approved.status).toBe(200);
      expect(await setup.exited).toBe(0);
      expect(statSync(machine.path("relay.toml")).mode & 0o777).toBe(0o600);
      await online(dev2, "dev-device", true);
    } finally {
      setup.kill();
      await machine.cleanup();
      await relay.api("DELETE", "/api/v1/nodes/dev-device");
    }
  });

  test("a denied code ends setup with a clear error and writes nothing", async () => {
    const { machine, setup, said, code } = await ask("dev-denied");
    try {
      expect((await form(code, relay.adminToken!, "deny")).status).toBe(200);
      expect(await setup.exited).toBe(1);
      await said.done;
      expect(said.text).toContain("denied dev-denied");
      expect(existsSync(machine.path("relay.toml"))).toBe(false);
    } finally {
      setup.kill();
      await machine.cleanup();
    }
  });
});

describe("reaching another node by name", () => {
  test("launch, list, logs, send, wait and kill on dev-1 from dev-2", async () => {
    const id = Number((await dev2.ok(["launch", "--node", "dev-1", "--name", "greeter", "--", "bash", "-c", 'echo "hello from $(hostname)-$CW_SESSION_NAME"; read l; echo "got $l"'])).trim());
    // It runs on dev-1: dev-1 lists it locally, dev-2 does not have it.
    expect((await dev1.list()).map((s) => s.name)).toContain("greeter");
    expect((await dev2.list()).map((s) => s.name)).not.toContain("greeter");
    const remoteList = JSON.parse(await dev2.ok(["list", "dev-1", "--json"])) as { id: number }[];
    expect(remoteList.map((s) => s.id)).toContain(id);
    await waitFor(async () => (await dev2.ok(["logs", `dev-1:${id}`])).includes("hello from"), "the greeting");
    await dev2.ok(["send", "dev-1:greeter", "over the relay"]);
    expect((await dev2.run(["wait", `dev-1:${id}`, "--timeout", "10"])).code).toBe(0);
    expect(await dev2.ok(["logs", "dev-1:greeter"])).toContain("got over the relay");

    const sleeper = Number((await dev2.ok(["launch", "dev-1:sleeper", "--", "sleep", "60"])).trim());
    await dev2.ok(["kill", `dev-1:${sleeper}`]);
    await dev1.waitStatus(sleeper, "killed");
  });

  test("--node sends any command to a node; cw subscribe <node> streams its events", async () => {
    const sub = dev2.spawn(["subscribe", "dev-1", "--tag", "sub-check", "--json"]);
    const out = capture(sub.stdout as ReadableStream<Uint8Array>);
    const errs = capture(sub.stderr as ReadableStream<Uint8Array>);
    try {
      await waitFor(() => errs.text.includes("subscribed"), "the subscription to start");
      await dev2.ok(["--node", "dev-1", "launch", "--tag", "sub-check", "--", "sleep", "60"]);
      await waitFor(() => out.text.includes('"session.created"'), "the created event from dev-1");
      await dev2.ok(["--node", "dev-1", "kill", "--tag", "sub-check"]);
      await waitFor(() => /"session.status".*"killed"/.test(out.text), "the killed event from dev-1");
      expect((await dev1.list()).filter((s) => s.tags.includes("sub-check")).map((s) => s.status)).toEqual(["killed"]);
    } finally {
      sub.kill();
    }
  });

  test("a request to a session on another node gets that session's reply", async () => {
    await dev1.launch(["sleep", "60"], ["--name", "answerer"]);
    const asking = dev2.spawn(["request", "dev-1:answerer", "what is 6*7?", "--timeout", "20"]);
    const answer = capture(asking.stdout as ReadableStream<Uint8Array>);
    const pending = await waitFor(async () => {
      const inbox = JSON.parse(await dev1.ok(["inbox", "answerer", "--json", "--peek"])) as { messages: { id: string; kind: string; body: string }[] };
      return inbox.messages.find((m) => m.kind === "request" && m.body === "what is 6*7?");
    }, "the request in dev-1's inbox");
    await dev1.ok(["reply", pending.id, "42", "-f", "answerer"]);
    expect(await asking.exited).toBe(0);
    await answer.done;
    expect(answer.text).toContain("42");
  });

  test("a session asking a session on another node is named by its node there, and gets the reply", async () => {
    await dev1.launch(["sleep", "60"], ["--name", "oracle"]);
    const askerId = await dev2.launch(["sh", "-c", `${CW} request dev-1:oracle "meaning of life?" --timeout 20; sleep 30`], ["--name", "asker"]);
    const pending = await waitFor(async () => {
      const inbox = JSON.parse(await dev1.ok(["inbox", "oracle", "--json", "--peek"])) as { messages: { id: string; body: string; from: unknown }[] };
      return inbox.messages.find((m) => m.body === "meaning of life?");
    }, "the request in oracle's inbox");
    expect(pending.from).toEqual({ id: askerId, name: "asker", node: "dev-2" });
    expect(await dev1.ok(["inbox", "oracle", "--peek"])).toContain("dev-2:asker");
    // Make sure dev-1 has a session with the asker's id: the reply must not land in its inbox.
    while ((await dev1.list()).every((x) => x.id < askerId)) await dev1.launch(["sleep", "60"]);
    const reply = JSON.parse(await dev1.ok(["reply", pending.id, "42", "-f", "oracle", "--json"]));
    expect(reply.to).toEqual({ id: askerId, name: "asker", node: "dev-2" });
    await waitFor(async () => (await dev2.ok(["logs", "asker"])).includes("42"), "the reply in the asker's terminal");
    const sameId = JSON.parse(await dev1.ok(["inbox", String(askerId), "--json", "--peek"])) as { messages: { body: string }[] };
    expect(sameId.messages.map((m) => m.body)).not.toContain("42");
  });

  test("the MCP server lists the relay's nodes, and its tools act on any of them", async () => {
    const mcp = new Client({ name: "cw-relay-test", version: "1.0.0" });
    await mcp.connect(new StdioClientTransport({ command: CW, args: ["mcp-server"], env: dev2.env, cwd: dev2.dir, stderr: "pipe" }));
    try {
      const r = (await mcp.callTool({ name: "codewire_list_nodes", arguments: {} })).structuredContent as { nodes: { name: string; local: boolean; current: boolean; connected: boolean }[]; relay_url: string };
      expect(r.relay_url).toBe(relay.url);
      expect(r.nodes.map((n) => [n.name, n.local, n.current, n.connected])).toEqual([
        ["dev-2", true, true, true],
        ["dev-1", false, false, true],
      ]);

      // Every session tool takes `node`; list_nodes does not.
      const tools = (await mcp.listTools()).tools;
      expect(Object.keys(tools.find((t) => t.name === "codewire_launch_session")!.inputSchema.properties ?? {})).toContain("node");
      expect(Object.keys(tools.find((t) => t.name === "codewire_list_nodes")!.inputSchema.properties ?? {})).not.toContain("node");
      const call = async (name: string, args: Record<string, unknown>) => {
        const res = await mcp.callTool({ name, arguments: args });
        if (res.isError) throw new Error(JSON.stringify(res.content));
        return res.structuredContent as Record<string, any>;
      };
      const launched = await call("codewire_launch_session", { node: "dev-1", name: "from-mcp", command: ["sh", "-c", "echo mcp-on-$CW_SESSION_NAME; sleep 30"] });
      expect((await dev1.session("from-mcp")).id).toBe(launched.session.id);
      expect((await dev2.list()).map((x) => x.name)).not.toContain("from-mcp");
      const listed = await call("codewire_list_sessions", { node: "dev-1" });
      expect(listed.sessions.map((x: { name?: string }) => x.name)).toContain("from-mcp");
      await waitFor(async () => JSON.stringify(await call("codewire_read_session_output", { node: "dev-1", session: "from-mcp" })).includes("mcp-on-from-mcp"), "the output through MCP");
      await call("codewire_kill_session", { node: "dev-1", session: "from-mcp" });
      await dev1.waitStatus(launched.session.id, "killed");
      // Without `node`, the same server still acts on its own node.
      expect((await call("codewire_list_sessions", {})).sessions.map((x: { name?: string }) => x.name)).not.toContain("from-mcp");
      const nowhere = await mcp.callTool({ name: "codewire_list_sessions", arguments: { node: "dev-9" } });
      expect(nowhere.isError).toBe(true);
    } finally {
      await mcp.close();
    }
  });

  test("a large output arrives through the relay byte for byte", async () => {
    const id = await dev1.launch(["sh", "-c", "head -c 3000000 /dev/urandom | base64 -w 100"]);
    await dev1.waitStatus(id, "completed");
    const local = await dev1.ok(["logs", String(id)]);
    const remote = await dev2.ok(["logs", `dev-1:${id}`]);
    expect(local.length).toBeGreaterThan(3_900_000);
    expect(remote.length).toBe(local.length);
    expect(remote === local).toBe(true);
  });

  test("attach through the relay: type, see the echo, detach", async () => {
    await dev1.launch(["bash", "--norc", "--noprofile"], ["--name", "relay-shell"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach dev-1:relay-shell`, dev2.env);
    await tmux.type("echo relayed-$((40+2))");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("relayed-42"), "the echo through the relay");
    await tmux.keys("C-b", "d");
    expect(await tmux.waitScreen((s) => s.includes("[exit 0]"), "attach to end")).toContain("detached from session");
    expect((await dev1.session("relay-shell")).status).toBe("running");
  });

  test("cw kv is shared by every node of the relay", async () => {
    await dev2.ok(["kv", "set", "build/status", "green", "--ns", "proj"]);
    expect((await dev1.ok(["kv", "get", "build/status", "--ns", "proj"])).trim()).toBe("green");
    await dev1.ok(["kv", "set", "lock", "dev-1", "--ttl", "1s"]);
    expect(JSON.parse(await dev2.ok(["kv", "get", "lock", "--json"]))).toMatchObject({ key: "lock", value: "dev-1" });
    await waitFor(async () => (await dev2.run(["kv", "get", "lock"])).code === 3, "the lock to expire");
    expect((await dev1.run(["kv", "delete", "build/status", "--ns", "proj"])).code).toBe(0);
    expect((await dev2.run(["kv", "get", "build/status", "--ns", "proj"])).code).toBe(3);
  });

  test("an unknown node, and a machine without a relay, fail clearly", async () => {
    // Naming this machine's own node is fine; naming two nodes in one command is not.
    const ids = (out: string) => (JSON.parse(out) as { id: number }[]).map((x) => x.id);
    expect(ids(await dev2.ok(["list", "dev-2", "--json"]))).toEqual(ids(await dev2.ok(["list", "--json"])));
    const two = await dev2.run(["kill", "dev-2:1", "dev-1:1"]);
    expect(two.code).toBe(1);
    expect(two.stderr).toContain("one command talks to one node");
    const unknown = await dev2.run(["list", "dev-9"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no node named dev-9 is registered");
    const lone = new CwHome();
    try {
      const r = await lone.run(["logs", "dev-1:1"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("this machine has no relay");
      expect(r.stderr).toContain("cw setup");
      expect(existsSync(lone.path("codewire.sock"))).toBe(false);
    } finally {
      await lone.cleanup();
    }
  });
});

describe("bad input", () => {
  test("garbage from a client or from a node's connection takes nothing down", async () => {
    const ws = (path: string, token: string) => {
      const w = new WebSocket(`${relay.url.replace("http", "ws")}${path}`, { headers: { Authorization: `Bearer ${token}` } } as unknown as string[]);
      w.binaryType = "arraybuffer";
      const got: (string | Uint8Array)[] = [];
      let closed = false;
      w.onmessage = (ev) => got.push(typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data as ArrayBuffer));
      w.onclose = () => {
        closed = true;
      };
      return { w, got, isClosed: () => closed };
    };
    const dev2Token = /user_token = "([^"]+)"/.exec(readFileSync(dev2.path("relay.toml"), "utf8"))![1]!;
    // A client sending text that is not JSON to dev-1 gets the node's error, and the stream ends.
    const client = ws("/api/v1/nodes/dev-1/connect", dev2Token);
    await waitFor(() => client.w.readyState === WebSocket.OPEN, "the client stream to open");
    client.w.send("{not json");
    await waitFor(() => client.isClosed(), "the node to end the broken stream");
    expect(JSON.parse(String(client.got[0]))).toMatchObject({ type: "Error", code: "bad_request" });

    // A malformed address is a JSON error, never Bun's error page (which would show source).
    const bad = await fetch(`${relay.url}/api/v1/nodes/%E0%A4%A/connect`, { headers: { Authorization: `Bearer ${dev2Token}`, Upgrade: "websocket" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "bad_request" });

    // A registered node that sends random messages on its agent connection.
    const { json } = await relay.api("POST", "/api/v1/nodes", { name: "fuzzer" });
    const agent = ws("/node/connect", json.token);
    await waitFor(() => agent.w.readyState === WebSocket.OPEN, "the fuzzing agent to connect");
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(rand() % 64);
      for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff;
      if (b.length > 0 && i % 3 === 0) b[0] = rand() % 5; // often a valid kind with a random channel
      agent.w.send(b);
    }
    agent.w.send("text is not welcome");
    await waitFor(() => agent.isClosed(), "the relay to drop the text-sending agent");
    expect((await relay.api("GET", "/healthz", undefined, undefined)).json).toMatchObject({ ok: true });
    const id = await dev1.launch(["sleep", "30"]);
    expect((JSON.parse(await dev2.ok(["list", "dev-1", "--json"])) as { id: number }[]).map((x) => x.id)).toContain(id);
    await relay.api("DELETE", "/api/v1/nodes/fuzzer");
  });
});

describe("when things go away", () => {
  test("a stopped node shows offline and cannot be reached; started again, it is back", async () => {
    await dev1.ok(["stop"]);
    await online(dev2, "dev-1", false);
    const r = await dev2.run(["list", "dev-1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("node dev-1 is not connected to the relay");
    await dev1.ok(["start"]);
    await online(dev2, "dev-1", true);
  });

  test("a restarted relay gets its nodes back by itself; while it is down, kv says so", async () => {
    const port = relay.port;
    await relay.stop();
    const down = await dev1.run(["kv", "get", "anything"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot reach the relay");
    // Reaching a node through it says the same, not to set `listen` (which is for --server).
    const list = await dev1.run(["list", "dev-2"]);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain("cannot reach the relay at");
    expect(list.stderr).not.toContain("listen");
    await relay.start(port);
    await online(dev2, "dev-1", true);
    await online(dev2, "dev-2", true);
    expect(JSON.parse(await dev2.ok(["list", "dev-1", "--json"])).length).toBeGreaterThan(0);
  });

  test("a node notices a relay that stopped answering (a dead path) and reconnects when it answers again", async () => {
    const own = new RelayProcess();
    const node = new CwHome({ CW_RELAY_PING_MS: "200" });
    try {
      await own.start();
      await node.ok(["setup", own.url, "--token", own.adminToken!, "--name", "sleeper"]);
      const log = () => readFileSync(node.path("node.log"), "utf8");
      // A frozen relay keeps its TCP connections open but answers nothing, like a path that died.
      own.proc!.kill("SIGSTOP");
      await waitFor(() => log().includes("no answer from the relay"), "the node to give up on the silent relay", 10_000);
      own.proc!.kill("SIGCONT");
      await waitFor(() => log().split("no answer from the relay").pop()!.includes(": connected"), "the node to reconnect", 15_000);
      const nodes = (await own.api("GET", "/api/v1/nodes")).json.nodes as { name: string; connected: boolean }[];
      expect(nodes.find((n) => n.name === "sleeper")?.connected).toBe(true);
    } finally {
      own.proc?.kill("SIGCONT");
      await node.cleanup();
      await own.cleanup();
    }
  });

  /**
   * A shell on dev-1 attached from dev-2 in tmux (through the relay), shown working; then the
   * relay is frozen (SIGSTOP: it answers nothing, as if the network were gone) while `whileCut`
   * runs, and thawed again. The session itself must survive.
   */
  async function withPathCut(name: string, attachPrefix: string, whileCut: () => Promise<void>) {
    await dev1.launch(["bash", "--norc", "--noprofile"], ["--name", name]);
    tmux = new Tmux();
    await tmux.start(`${attachPrefix}${CW} attach dev-1:${name}`, dev2.env);
    await tmux.type("echo alive-$((40+2))");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("alive-42"), "the shell through the relay");
    relay.proc!.kill("SIGSTOP");
    try {
      await whileCut();
    } finally {
      relay.proc!.kill("SIGCONT");
    }
    expect((await dev1.session(name)).status).toBe("running");
  }

  test("Ctrl+B d gives the terminal back even when the path to the node has died", async () => {
    await withPathCut("stranded", "", async () => {
      await tmux!.keys("C-b", "d");
      const screen = await tmux!.waitScreen((s) => s.includes("[exit 0]"), "attach to end without the node's answer", 8_000);
      expect(screen).toContain("detached from");
    });
  });

  test("an attached terminal notices a dead path and ends instead of hanging", async () => {
    await withPathCut("cut-off", "env CW_WS_PING_MS=200 ", async () => {
      const screen = await tmux!.waitScreen((s) => s.includes("[exit 1]"), "attach to give up on the silent relay", 8_000);
      expect(screen).toContain("lost the connection");
    });
  });

  test("an auth mode this build does not have is refused with a clear error", async () => {
    const r = Bun.spawnSync([CW, "relay", "--auth-mode", "oidc", "--listen", "127.0.0.1:0", "--data-dir", relay.path("oidc")], { env: { ...process.env, CW_AUTH_TOKEN: "x".repeat(32) } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain("tokens only");
  });

  test("a second relay on a port in use refuses to start instead of sharing it", async () => {
    const second = Bun.spawn([CW, "relay", "--listen", `127.0.0.1:${relay.port}`, "--ssh-listen", "off", "--data-dir", relay.path("second")], {
      env: { ...process.env, CW_AUTH_TOKEN: "second-relay-token-0123456789" },
      stdout: "ignore",
      stderr: "pipe",
    });
    const said = capture(second.stderr as ReadableStream<Uint8Array>);
    expect(await second.exited).toBe(1);
    await said.done;
    expect(said.text).toContain(`cannot listen on 127.0.0.1:${relay.port}`);
    expect((await relay.api("GET", "/healthz", undefined, undefined)).json).toMatchObject({ ok: true });
  });

  test("without CW_AUTH_TOKEN the relay makes an admin token, prints it once and keeps only its hash", async () => {
    const own = new RelayProcess(null);
    try {
      await own.start();
      const token = await waitFor(() => /admin token \(shown once[^:]*\): (\S+)/.exec(own.stderr)?.[1], "the printed admin token");
      expect((await own.api("GET", "/api/v1/nodes", undefined, token)).status).toBe(200);
      expect((await own.api("GET", "/api/v1/nodes", undefined, "guess")).status).toBe(401);
      expect(readFileSync(own.path("data", "relay.db")).includes(Buffer.from(token))).toBe(false);
      const port = own.port;
      await own.stop();
      await own.start(port);
      expect(own.stderr).not.toContain("admin token");
      expect((await own.api("GET", "/api/v1/nodes", undefined, token)).status).toBe(200);
    } finally {
      await own.cleanup();
    }
  });
});
