/**
 * The MCP server through the SDK's own client: `dist/cw mcp-server` spawned over stdio with its
 * own CODEWIRE_HOME, every tool called against a real node and real sessions.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CW, CwHome, shq, waitFor } from "./helpers";

const TOOL_NAMES = [
  "codewire_peers",
  "codewire_peer_add",
  "codewire_peer_msg",
  "codewire_launch_session",
  "codewire_list_sessions",
  "codewire_read_session_output",
  "codewire_send_input",
  "codewire_watch_session",
  "codewire_get_session_status",
  "codewire_kill_session",
  "codewire_subscribe",
  "codewire_wait_for",
  "codewire_msg",
  "codewire_read_messages",
  "codewire_request",
  "codewire_reply",
  "codewire_list_nodes",
  "codewire_kv_set",
  "codewire_kv_get",
  "codewire_kv_list",
  "codewire_kv_delete",
  "codewire_broadcast",
];

let cw: CwHome;
let client: Client;

beforeAll(async () => {
  cw = new CwHome({ CODEWIRE_NODE_NAME: "mcp-test-node" });
  client = new Client({ name: "cw-test", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: CW, args: ["mcp-server"], env: cw.env, cwd: cw.dir, stderr: "pipe" }));
});
afterAll(async () => {
  await client?.close();
  await cw.cleanup();
});

interface Result {
  text: string;
  data: any;
  isError: boolean;
  progress: { progress: number; total?: number; message?: string }[];
}

/** Calls a tool; `progress` collects the notifications when `withProgress`. */
async function tool(name: string, args: Record<string, unknown> = {}, withProgress = false): Promise<Result> {
  const progress: Result["progress"] = [];
  const r = (await client.callTool({ name, arguments: args }, undefined, withProgress ? { onprogress: (p) => progress.push(p) } : undefined)) as CallToolResult;
  const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
  return { text, data: r.structuredContent, isError: Boolean(r.isError), progress };
}

async function ok(name: string, args: Record<string, unknown> = {}, withProgress = false): Promise<Result> {
  const r = await tool(name, args, withProgress);
  if (r.isError) throw new Error(`${name} failed: ${r.text}`);
  return r;
}

describe("tools/list", () => {
  test("lists all 22 tools with descriptions and input and output schemas", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    for (const t of tools) {
      // Written for a model: what it does, when to use it, what it returns.
      expect(t.description!.length).toBeGreaterThan(120);
      expect(t.description).toMatch(/Returns/);
      expect(t.inputSchema.type).toBe("object");
      expect(t.outputSchema?.type).toBe("object");
    }
    const wait = tools.find((t) => t.name === "codewire_wait_for")!;
    expect(Object.keys(wait.inputSchema.properties!)).toEqual(["sessions", "tags", "condition", "timeout_s", "state", "node"]);
    expect((wait.inputSchema.properties!.timeout_s as any).maximum).toBe(600);
  });
});

describe("sessions", () => {
  test("launch → wait_for (with progress) → read output, list and status", async () => {
    const launched = await ok("codewire_launch_session", { command: ["bash", "-c", "sleep 2.2; for i in $(seq 1 300); do echo row $i; done"], name: "rows", tags: ["mcp-rows"] });
    expect(launched.data.session).toMatchObject({ name: "rows", status: "running", tags: ["mcp-rows"], working_dir: cw.dir });
    const id = launched.data.session.id;
    expect(launched.text).toContain(`Launched session ${id} (rows)`);

    const waited = await ok("codewire_wait_for", { sessions: ["rows"], timeout_s: 20 }, true);
    expect(waited.data).toMatchObject({ timed_out: false, succeeded: true });
    expect(waited.data.sessions[0]).toMatchObject({ id, status: "completed", exit_code: 0 });
    // One report at the start, another every 2 s while waiting.
    expect(waited.progress.length).toBeGreaterThanOrEqual(2);
    expect(waited.progress[0]!.message).toContain("waiting for session rows");
    expect(waited.progress.at(-1)!.progress).toBeGreaterThan(waited.progress[0]!.progress);

    const out = await ok("codewire_read_session_output", { session: id, tail_lines: 50 });
    expect(out.data.output.trim().split("\n")).toEqual(Array.from({ length: 50 }, (_, i) => `row ${251 + i}`));
    expect(out.data.truncated).toBe(true);
    expect(out.text).toContain("truncated");

    // A byte budget smaller than the output: the end is kept, and the text says how to get more.
    const small = await ok("codewire_read_session_output", { session: "rows", tail_lines: 300, max_bytes: 256 });
    expect(small.data.bytes).toBeLessThanOrEqual(256);
    expect(small.data.output.trim().endsWith("row 300")).toBe(true);
    expect(small.text).toMatch(/truncated .*larger tail_lines .*max_bytes/s);

    const all = await ok("codewire_read_session_output", { session: id, tail_lines: 1000, max_bytes: 65536 });
    expect(all.data.truncated).toBe(false);
    expect(all.data.output).toContain("row 1\n");

    const list = await ok("codewire_list_sessions", { tags: ["mcp-rows"] });
    expect(list.data.sessions.map((s: any) => s.id)).toEqual([id]);
    expect(list.text).toContain(`session ${id} (rows) · completed (0)`);

    const status = await ok("codewire_get_session_status", { session: "rows", recent_lines: 3 });
    expect(status.data.session.exit_code).toBe(0);
    expect(status.data.recent_output.trim().split("\n")).toEqual(["row 298", "row 299", "row 300"]);
    expect(status.data.log_path).toContain(cw.dir);
  });

  test("launch refuses an all-digit name: a number is a session id", async () => {
    const r = await tool("codewire_launch_session", { command: ["true"], name: "4711" });
    expect(r.isError).toBe(true);
    expect(r.text).toContain("numbers are session ids");
    expect((await cw.list()).some((s) => s.name === "4711")).toBe(false);
  });

  test("read_session_output with view screen renders a full-screen program", async () => {
    const launched = await ok("codewire_launch_session", { command: ["vim", "-u", "NONE", "-N", "-n"], name: "mcp-vim" });
    await ok("codewire_send_input", { session: "mcp-vim", text: "ifrom the model\x1b", newline: false });
    const screen = await waitFor(async () => {
      const r = await ok("codewire_read_session_output", { session: "mcp-vim", view: "screen" });
      return r.data.output.startsWith("from the model\n~") ? r : undefined;
    }, "vim's screen through MCP");
    expect(screen.text).toContain("full-screen program");
    await ok("codewire_kill_session", { session: launched.data.session.id });
  });

  test("send_input while watch_session waits for a match, then kill by tag", async () => {
    const { data } = await ok("codewire_launch_session", { command: ["bash", "-c", 'echo ready; while read -r l; do echo "echo:$l"; done'], tags: ["mcp-echo"] });
    const id = data.session.id;
    const watch = tool("codewire_watch_session", { session: id, until: "echo:hello-\\d+", timeout_s: 20 }, true);
    // The watch sees the history line "ready" first; input sent after that must be matched.
    await waitFor(async () => (await ok("codewire_read_session_output", { session: id })).data.output.includes("ready"), "the session to start");
    const sent = await ok("codewire_send_input", { session: id, text: "hello-42" });
    expect(sent.data.bytes).toBe("hello-42".length + 1);
    const w = await watch;
    expect(w.isError).toBe(false);
    expect(w.data).toMatchObject({ ended: "matched", match: "echo:hello-42" });
    expect(w.data.output).toContain("ready");
    expect(w.progress.length).toBeGreaterThan(0);
    expect(w.data.sessions[0]).toMatchObject({ id, status: "running" });

    // A watch that ends by its timeout says so.
    const quiet = await ok("codewire_watch_session", { tags: ["mcp-echo"], history: false, timeout_s: 0.5 });
    expect(quiet.data.ended).toBe("timeout");

    const killed = await ok("codewire_kill_session", { tags: ["mcp-echo"] });
    expect(killed.data.killed).toEqual([id]);
    expect((await ok("codewire_get_session_status", { session: id })).data.session.status).toBe("killed");
  });

  test("launch with pty false: a program on pipes, and send_input's Enter is the newline it reads", async () => {
    const { data } = await ok("codewire_launch_session", { command: ["bash", "-c", '[ -t 0 ] || echo no-terminal; read -r l; echo "got:$l"'], pty: false });
    const id = data.session.id;
    await waitFor(async () => (await ok("codewire_read_session_output", { session: id })).data.output.includes("no-terminal"), "the session to start");
    await ok("codewire_send_input", { session: id, text: "over-pipes" });
    const end = await ok("codewire_wait_for", { sessions: [id], timeout_s: 10 });
    expect(end.data).toMatchObject({ timed_out: false, succeeded: true });
    expect((await ok("codewire_read_session_output", { session: id })).data.output).toContain("got:over-pipes");
  });

  test("subscribe returns the events that happen during the call", async () => {
    const { data } = await ok("codewire_launch_session", { command: ["bash", "-c", "while read -r l; do :; done"], name: "subme" });
    const sub = tool("codewire_subscribe", { session: "subme", events: ["session.input"], max_events: 1, timeout_s: 15 }, true);
    let done = false;
    void sub.finally(() => (done = true));
    // The subscription starts when the node gets it; keep typing until it has seen some input.
    await waitFor(async () => {
      if (!done) await ok("codewire_send_input", { session: "subme", text: "x" });
      return done;
    }, "an input event", 10_000, 100);
    const r = await sub;
    expect(r.data.ended).toBe("max_events");
    expect(r.data.events).toHaveLength(1);
    expect(r.data.events[0]).toMatchObject({ type: "session.input", session_id: data.session.id, session_name: "subme" });
    // The server leaves a gap between the progress report and the result, so the SDK client
    // (which handles notifications a microtask late) does not drop it.
    await waitFor(() => r.progress.length === 1, "the progress notification", 2000, 10);
    expect(r.progress.length).toBe(1);

    // A wait that times out says the session keeps running; the session is untouched.
    const w = await ok("codewire_wait_for", { sessions: ["subme"], timeout_s: 0.3 });
    expect(w.data).toMatchObject({ timed_out: true, succeeded: false });
    expect(w.text).toContain("still running");
    await ok("codewire_kill_session", { session: "subme" });
  });
});

describe("messaging", () => {
  test("request/reply between two sessions: the responder answers with `cw inbox --json` and `cw reply`", async () => {
    // The responder polls its own inbox (CW_SESSION_ID makes it the default) and answers the
    // first pending request, as an agent's shell script would.
    const script = `
      while :; do
        req=$(${shq(CW)} inbox --unread --json | bun -e 'const j = await Bun.stdin.json(); const r = j.messages.find((m) => m.kind === "request" && m.status === "pending"); if (r) console.log(r.id + " " + r.body)')
        if [ -n "$req" ]; then ${shq(CW)} reply "\${req%% *}" "pong:\${req#* }"; exit 0; fi
        sleep 0.05
      done`;
    await ok("codewire_launch_session", { command: ["bash", "-c", script], name: "responder" });
    const asker = await ok("codewire_launch_session", { command: ["sleep", "60"], name: "asker" });
    const r = await ok("codewire_request", { to: "responder", from: "asker", body: "ping-7", timeout_s: 20 }, true);
    expect(r.data.outcome).toBe("replied");
    expect(r.data.request).toMatchObject({ kind: "request", body: "ping-7", from: { id: asker.data.session.id, name: "asker" }, to: { name: "responder" } });
    expect(r.data.reply).toMatchObject({ kind: "reply", body: "pong:ping-7", request_id: r.data.request.id, from: { name: "responder" } });
    expect(r.text).toContain("pong:ping-7");
    expect(r.progress.length).toBeGreaterThanOrEqual(1);
    // The reply is also in the asker's inbox.
    const inbox = await ok("codewire_read_messages", { session: "asker" });
    expect(inbox.data.messages.map((m: any) => m.body)).toContain("pong:ping-7");
  });

  test("a session's `cw request` answered through codewire_reply; msg, broadcast and inbox", async () => {
    const boss = (await ok("codewire_launch_session", { command: ["sleep", "60"], name: "boss", tags: ["mcp-team"] })).data.session.id;
    const ask = await ok("codewire_launch_session", { command: ["bash", "-c", `${shq(CW)} request boss "need the schema?" --timeout 20`], name: "worker", tags: ["mcp-team"] });
    const pending = await waitFor(async () => {
      const r = await ok("codewire_read_messages", { session: "boss", unread_only: true, mark_read: false });
      return r.data.messages.find((m: any) => m.kind === "request" && m.status === "pending");
    }, "the worker's request in boss's inbox");
    expect(pending).toMatchObject({ body: "need the schema?", from: { name: "worker" } });
    const rep = await ok("codewire_reply", { request_id: pending.id, body: "use the users table", from: "boss" });
    expect(rep.data.message).toMatchObject({ kind: "reply", request_id: pending.id, from: { name: "boss" }, to: { name: "worker" } });
    await ok("codewire_wait_for", { sessions: [ask.data.session.id], timeout_s: 15 });
    expect((await ok("codewire_read_session_output", { session: "worker" })).data.output).toContain("[reply from boss] use the users table");

    // Replying twice is a tool error with a reason.
    const again = await tool("codewire_reply", { request_id: pending.id, body: "again" });
    expect(again.isError).toBe(true);
    expect(again.text).toContain("already answered");

    const sent = await ok("codewire_msg", { to: "boss", body: "hello boss" });
    expect(sent.data.message).toMatchObject({ kind: "direct", from: null, to: { name: "boss" }, body: "hello boss" });
    const extra = await ok("codewire_launch_session", { command: ["sleep", "60"], tags: ["mcp-team"] });
    const b = await ok("codewire_broadcast", { tags: ["mcp-team"], body: "standup", from: "boss" });
    // The worker has ended, and the sender is skipped: only the extra session gets it.
    expect(b.data.messages.map((m: any) => m.to.id)).toEqual([extra.data.session.id]);
    const inbox = await ok("codewire_read_messages", { session: "boss" });
    expect(inbox.data.messages.map((m: any) => m.body)).toEqual(expect.arrayContaining(["need the schema?", "hello boss"]));
    expect(inbox.text).toContain(`user → ${boss} (boss): hello boss`);
    expect((await ok("codewire_read_messages", { session: "boss", unread_only: true })).data.messages).toEqual([]);

    // A server running inside a session (as Claude Code in a cw session starts it) sends as
    // that session and reads that session's inbox by default.
    const inside = new Client({ name: "cw-test-inside", version: "1.0.0" });
    await inside.connect(new StdioClientTransport({ command: CW, args: ["mcp-server"], env: { ...cw.env, CW_SESSION_ID: String(extra.data.session.id) }, cwd: cw.dir, stderr: "pipe" }));
    try {
      const m = (await inside.callTool({ name: "codewire_msg", arguments: { to: "boss", body: "from inside" } })) as CallToolResult;
      expect((m.structuredContent as any).message.from).toEqual({ id: extra.data.session.id });
      const own = (await inside.callTool({ name: "codewire_read_messages", arguments: {} })) as CallToolResult;
      expect((own.structuredContent as any).messages.map((x: any) => x.body)).toEqual(["standup"]);
    } finally {
      await inside.close();
    }
    await ok("codewire_kill_session", { tags: ["mcp-team"] });
  });
});

describe("kv and nodes", () => {
  test("set, get, list by prefix, namespaces, TTL and delete", async () => {
    const set = await ok("codewire_kv_set", { key: "task:1", value: "alice" });
    expect(set.data).toMatchObject({ ns: "default", key: "task:1", expires_at: null });
    await ok("codewire_kv_set", { key: "task:2", value: "bob", ttl_s: 600 });
    await ok("codewire_kv_set", { key: "other", value: "x" });
    await ok("codewire_kv_set", { key: "task:1", value: "in-proj", ns: "proj" });
    expect((await ok("codewire_kv_get", { key: "task:1" })).data).toEqual({ found: true, entry: { key: "task:1", value: "alice", expires_at: null } });
    expect((await ok("codewire_kv_get", { key: "task:1", ns: "proj" })).data.entry.value).toBe("in-proj");
    const list = await ok("codewire_kv_list", { prefix: "task:" });
    expect(list.data.entries.map((e: any) => e.key)).toEqual(["task:1", "task:2"]);
    expect(list.data.entries[1].expires_at).not.toBeNull();
    expect(list.text).toContain("task:2 = bob (expires");

    await ok("codewire_kv_set", { key: "lock", value: "me", ttl_s: 0.2 });
    await waitFor(async () => !(await ok("codewire_kv_get", { key: "lock" })).data.found, "the lock to expire", 5000, 50);

    expect((await ok("codewire_kv_delete", { key: "task:1" })).data.deleted).toBe(true);
    expect((await ok("codewire_kv_delete", { key: "task:1" })).data.deleted).toBe(false);
    const gone = await ok("codewire_kv_get", { key: "task:1" });
    expect(gone.data).toEqual({ found: false, entry: null });
    expect(gone.text).toContain("is not set");
  });

  test("a lock: kv_set if_absent stores for one caller only; kv_delete if_value releases only the holder's", async () => {
    expect((await ok("codewire_kv_set", { key: "mcp-lock", value: "agent-a", if_absent: true, ttl_s: 60 })).data.stored).toBe(true);
    const second = await ok("codewire_kv_set", { key: "mcp-lock", value: "agent-b", if_absent: true });
    expect(second.data.stored).toBe(false);
    expect(second.text).toContain("already set");
    expect((await ok("codewire_kv_delete", { key: "mcp-lock", if_value: "agent-b" })).data.deleted).toBe(false);
    expect((await ok("codewire_kv_get", { key: "mcp-lock" })).data.entry.value).toBe("agent-a");
    expect((await ok("codewire_kv_delete", { key: "mcp-lock", if_value: "agent-a" })).data.deleted).toBe(true);
  });

  test("list_nodes shows this node and says a relay is needed for more", async () => {
    const r = await ok("codewire_list_nodes");
    expect(r.data.nodes).toHaveLength(1);
    expect(r.data.nodes[0]).toMatchObject({ name: "mcp-test-node", local: true, connected: true, data_dir: cw.dir });
    expect(r.data.relay_url).toBeNull();
    expect(r.data.note).toContain("no relay");
  });
});

describe("errors", () => {
  test("come back as tool errors with a hint", async () => {
    const missing = await tool("codewire_read_session_output", { session: 9999 });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain("no session 9999");
    expect(missing.text).toContain("hint: call codewire_list_sessions");
    expect((await tool("codewire_send_input", { session: "nobody", text: "x" })).text).toContain("not_found");
    expect((await tool("codewire_msg", { to: "nobody", body: "x" })).isError).toBe(true);

    const badName = await tool("codewire_launch_session", { command: ["true"], name: "bad name!" });
    expect(badName.isError).toBe(true);
    expect(badName.text).toContain("name");

    const vague = await tool("codewire_kill_session", {});
    expect(vague.isError).toBe(true);
    expect(vague.text).toContain("hint:");

    const tooLong = await tool("codewire_wait_for", { sessions: [1], timeout_s: 601 });
    expect(tooLong.isError).toBe(true);
  });

  test("the server exits when its client closes stdin", async () => {
    const p = Bun.spawn([CW, "mcp-server"], { env: cw.env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    p.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })}\n`);
    p.stdin.end();
    const timer = setTimeout(() => p.kill("SIGKILL"), 5000);
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(JSON.parse(out.trim())).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
  });
});

describe("cw mcp install", () => {
  test("--dry-run prints the exact claude command for this cw", async () => {
    const r = await cw.run(["mcp", "install", "--dry-run", "--scope", "project"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`claude mcp add --scope project codewire -- ${CW} mcp-server\n`);
    const bad = await cw.run(["mcp", "install", "--scope", "galaxy"]);
    expect(bad.code).toBe(2);
  });

  test("without claude on PATH it prints the one-liner; with claude it runs it", async () => {
    const none = await cw.run(["mcp", "install"], { env: { PATH: "/nonexistent" } });
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(`claude mcp add --scope user codewire -- ${CW} mcp-server\n`);
    expect(none.stderr).toContain("not on PATH");

    // A stand-in claude that records how it was called.
    const bin = cw.path("fakebin");
    mkdirSync(bin);
    writeFileSync(`${bin}/claude`, `#!/bin/sh\nprintf '%s\\n' "$@" > ${shq(cw.path("claude-args"))}\n`);
    chmodSync(`${bin}/claude`, 0o755);
    const ran = await cw.run(["mcp", "install"], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(ran.code).toBe(0);
    expect(readFileSync(cw.path("claude-args"), "utf8").trim().split("\n")).toEqual(["mcp", "add", "--scope", "user", "codewire", "--", CW, "mcp-server"]);
    await cw.ok(["mcp", "uninstall", "--scope", "local"], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(readFileSync(cw.path("claude-args"), "utf8").trim().split("\n")).toEqual(["mcp", "remove", "--scope", "local", "codewire"]);
  });
});
