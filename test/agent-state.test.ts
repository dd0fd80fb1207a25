/**
 * Agent state end to end, through the compiled binary: first with a stand-in that draws the
 * real Claude Code's screens (test/fixtures/screens/) on cue, for the exact moments (wait
 * --state, notify, Esc correcting a stale hook); then with the real agents against their API
 * stubs: Claude Code with hooks and without (screen only), Codex with its notify program.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { agentBin, agentEnv, writeFileDeep } from "./fixtures/agents";
import { AnthropicStub, deferred, seedClaudeHome } from "./fixtures/anthropic-stub";
import { GeminiStub } from "./fixtures/gemini-stub";
import { OpenAIStub, seedCodexHome } from "./fixtures/openai-stub";
import { capture, CW, CwHome, Tmux, waitFor } from "./helpers";

const SCREENS = join(import.meta.dir, "fixtures/screens");
let cw: CwHome;
const stops: (() => void)[] = [];
const releases: (() => void)[] = [];
beforeEach(() => {
  cw = new CwHome();
});
afterEach(async () => {
  // Open model turns end first, and their last bytes go out before the stubs stop.
  for (const r of releases.splice(0)) r();
  await new Promise((r) => setImmediate(r));
  for (const s of stops.splice(0)) s();
  await cw.cleanup();
});

async function waitState(id: number, state: string, timeoutMs = 15_000, source?: string) {
  let last: Record<string, any> = {};
  try {
    return await waitFor(async () => {
      last = await cw.session(id);
      return last.agent_state === state && (!source || last.agent_state_source === source) ? last : undefined;
    }, `session ${id} to be ${state}${source ? ` (from its ${source})` : ""}`, timeoutMs, 50);
  } catch (e) {
    const screen = await cw.run(["screen", String(id)]);
    throw new Error(`${(e as Error).message}; it is ${last.agent_state} (${last.agent_state_source})\n--- screen ---\n${screen.stdout}`);
  }
}

/**
 * Answers a prompt as a person would: once it shows, with `key`; again if the TUI was not yet
 * reading its keys (the prompt still shows a few seconds later).
 */
async function approve(id: number, key: string, prompt: string) {
  const shows = async () => (await cw.ok(["screen", String(id)])).includes(prompt);
  await waitFor(shows, `the prompt "${prompt}"`, 40_000);
  for (let i = 0; i < 3; i++) {
    await cw.ok(["send", String(id), "--no-newline", key]);
    if (await waitFor(async () => !(await shows()), "the prompt to go", 3000).catch(() => false)) return;
  }
  throw new Error(`the prompt "${prompt}" did not take ${JSON.stringify(key)}`);
}

/**
 * A model turn the test keeps open (deferred), closed at the latest when the test ends, before
 * the stubs stop: a stub left streaming into a closed connection throws into the next test.
 */
function openTurn<T>(last: T) {
  const d = deferred<T>();
  releases.push(() => d.release(last));
  return d;
}

/** `cw subscribe --event session.state --json`, collected. */
function subscribeStates() {
  const p = cw.spawn(["subscribe", "--event", "session.state", "--json"]);
  stops.push(() => p.kill());
  const out = capture(p.stdout as ReadableStream<Uint8Array>);
  return { events: () => out.text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) };
}

/**
 * A program named claude that draws one of the real Claude Code screens for each line it reads
 * (idle, working, permission, interrupted): its bottom rows, cut to the 80 columns of a session.
 */
function fakeClaude(): string {
  const bin = cw.path("bin");
  mkdirSync(bin, { recursive: true });
  const path = join(bin, "claude");
  writeFileSync(
    path,
    `#!/bin/bash
show() { printf '\\033[H\\033[2J'; tail -n 22 "${SCREENS}/claude-$1.txt" | cut -c1-79 | sed 's/$/\\r/' | head -c -2; }
show idle
while read -r screen; do show "$screen"; done
`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe("with the real Claude Code screens, drawn on cue", () => {
  test("screen alone: idle → working → needs-input → working → idle; cw wait --state returns then; notify runs with the session's environment", async () => {
    const notified = cw.path("notified");
    writeFileSync(cw.path("config.toml"), `[notify]\ncommand = "echo \\"$CW_SESSION_ID $CW_SESSION_NAME $CW_AGENT_STATE\\" >> ${notified}"\n`);
    const sub = subscribeStates();
    const id = await cw.launch([fakeClaude()], ["--name", "fake"]);
    const s = await waitState(id, "idle");
    expect([s.agent, s.agent_state_source]).toEqual(["claude", "screen"]);

    const waiting = cw.run(["wait", "fake", "--state", "needs-input", "--timeout", "30"]);
    let returned = false;
    void waiting.then(() => (returned = true));
    await cw.ok(["send", "fake", "working"]);
    await waitState(id, "working");
    expect(returned).toBe(false);
    await cw.ok(["send", "fake", "permission"]);
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${id} (fake): running, claude needs input`);
    expect((await cw.session(id)).agent_state).toBe("needs-input");
    expect(await cw.ok(["list"])).toMatch(/running\s+needs input \ds/);

    await cw.ok(["send", "fake", "working"]);
    await waitState(id, "working");
    await cw.ok(["send", "fake", "idle"]);
    await waitState(id, "idle");
    await waitFor(() => existsSync(notified) && readFileSync(notified, "utf8").split("\n").length > 3, "notify to run three times");
    expect(readFileSync(notified, "utf8")).toBe(`${id} fake idle\n${id} fake needs-input\n${id} fake idle\n`);
    await waitFor(() => sub.events().length >= 5, "five session.state events");
    expect(sub.events().map((e) => e.data.state)).toEqual(["idle", "working", "needs-input", "working", "idle"]);
    expect(sub.events().every((e) => e.session_id === id && e.data.source === "screen" && e.data.agent === "claude")).toBe(true);
  });

  test("cw wait --state: 124 at its timeout, 1 when the session ends first; plain programs stay none", async () => {
    const id = await cw.launch([fakeClaude()]);
    await waitState(id, "idle");
    const t = await cw.run(["wait", String(id), "--state", "needs-input", "--timeout", "0.5"]);
    expect(t.code).toBe(124);
    const waiting = cw.run(["wait", String(id), "--state", "needs-input", "--timeout", "30"]);
    await cw.ok(["kill", String(id)]);
    expect((await waiting).code).toBe(1);
    expect((await cw.session(id)).agent_state).toBe("none");
    const plain = await cw.launch(["bash", "-c", "echo hello; sleep 30"]);
    await waitFor(async () => (await cw.session(plain)).output_bytes > 0, "output");
    expect(await cw.session(plain)).toMatchObject({ agent_state: "none", agent: null, agent_state_source: null });
    expect((await cw.run(["wait", String(plain), "--state", "bogus"])).code).toBe(2);
  });

  test("a hook wins at once; a screen that disagrees for 2 s corrects it (Esc interrupts a turn: no Stop hook)", async () => {
    const id = await cw.launch([fakeClaude()]);
    await waitState(id, "idle");
    const hook = (event: string, json = "{}") => cw.run(["hook", "claude", event], { stdin: json, env: { CW_SESSION_ID: String(id) } });
    await hook("UserPromptSubmit");
    expect((await cw.session(id)).agent_state).toBe("working");
    await cw.ok(["send", String(id), "working"]);
    await cw.ok(["send", String(id), "interrupted"]);
    const started = Date.now();
    // Still working by the hook's word for a while: the screen has to disagree for 2 s.
    expect((await cw.session(id)).agent_state).toBe("working");
    const s = await waitState(id, "idle", 10_000);
    expect(s.agent_state_source).toBe("screen");
    expect(Date.now() - started).toBeGreaterThan(1500);
  });
});

test("MCP: list and status carry the agent state, wait_for waits for one, subscribe gets session.state", async () => {
  const client = new Client({ name: "cw-test", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: CW, args: ["mcp-server"], env: cw.env, cwd: cw.dir, stderr: "pipe" }));
  stops.push(() => void client.close());
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    return { text: r.content.map((c) => (c.type === "text" ? c.text : "")).join(""), data: r.structuredContent as any };
  };
  const id = await cw.launch([fakeClaude()], ["--name", "mcp-agent"]);
  await waitState(id, "idle");
  const listed = await call("codewire_list_sessions", {});
  expect(listed.data.sessions[0]).toMatchObject({ agent: "claude", agent_state: "idle", agent_state_source: "screen" });
  expect(listed.text).toContain("claude idle since");
  // Already there or not yet, wait_for answers once the agent needs input.
  const waiting = call("codewire_wait_for", { sessions: ["mcp-agent"], state: "needs-input", timeout_s: 30 });
  await cw.ok(["send", "mcp-agent", "permission"]);
  const w = await waiting;
  expect(w.data.succeeded).toBe(true);
  expect(w.text).toContain(`needs input: ${id}`);
  // A subscription starts at some moment the test cannot see: change the state until it has one.
  let done = false;
  const events = call("codewire_subscribe", { events: ["session.state"], max_events: 1, timeout_s: 30 }).finally(() => (done = true));
  for (const next of ["working", "permission", "working", "permission", "working", "permission"]) {
    if (done) break;
    await cw.ok(["send", "mcp-agent", next]);
    await waitState(id, next === "working" ? "working" : "needs-input");
  }
  expect((await events).data.events[0].data).toMatchObject({ source: "screen", agent: "claude" });
  const state = (await cw.session(id)).agent_state;
  expect((await call("codewire_get_session_status", { session: id, recent_lines: 0 })).data.session.agent_state).toBe(state);
});

describe("a client attached to another session", () => {
  for (const on of [true, false]) {
    test(`${on ? "sees a one-line notice when an agent needs input" : "sees none with CODEWIRE_NOTICES=0"}`, async () => {
      const tmux = new Tmux();
      stops.push(() => void tmux.kill());
      const shell = await cw.launch(["bash", "--norc", "--noprofile"], ["--name", "shell"]);
      const agent = await cw.launch([fakeClaude()], ["--name", "planner"]);
      await waitState(agent, "idle");
      await tmux.start(`${on ? "" : "env CODEWIRE_NOTICES=0 "}${CW} attach shell`, cw.env);
      await tmux.keys("echo ready-$((6*7))", "Enter");
      await tmux.waitScreen((s) => s.includes("ready-42"), "the shell to answer");
      const hook = (event: string, json: string, id = agent) => cw.run(["hook", "claude", event], { stdin: json, env: { CW_SESSION_ID: String(id) } });
      await hook("Notification", '{"notification_type":"permission_prompt"}');
      // The attached session's own changes are no news to the person looking at it.
      await hook("UserPromptSubmit", "{}", shell);
      if (on) {
        const screen = await tmux.waitScreen((s) => s.includes("needs input"), "the notice");
        expect(screen).toContain(`[cw] session ${agent} (planner): claude needs input (cw attach ${agent})`);
        expect(screen).not.toContain(`session ${shell} (shell)`);
      } else {
        await waitFor(async () => (await cw.session(agent)).agent_state === "needs-input", "the state");
        // The same shell round trip as above: had a notice been drawn, it would be there by now.
        await tmux.keys("echo again-$((6*7))", "Enter");
        expect(await tmux.waitScreen((s) => s.includes("again-42"), "the shell to answer")).not.toContain("[cw] session");
      }
    });
  }
});

/**
 * Claude Code 2.1.332 against the Anthropic stub, asking before it runs a shell command (or,
 * with `script`, as scripted; `mode`: its permission mode).
 */
async function launchClaude(opts: { hooks: boolean; mode?: string; script?: ConstructorParameters<typeof AnthropicStub>[0]; userHooks?: object }) {
  const home = cw.path("home");
  const work = cw.path("work");
  mkdirSync(join(work, ".claude"), { recursive: true });
  const key = `sk-ant-api03-${"x".repeat(80)}ABCDEFGHIJKLMNOPQRST`;
  seedClaudeHome(home, key, [work]);
  if (opts.userHooks) {
    mkdirSync(join(home, ".claude"), { recursive: true });
    writeFileSync(join(home, ".claude", "settings.json"), JSON.stringify({ hooks: opts.userHooks }));
  }
  if (opts.hooks) expect((await cw.run(["hooks", "install", "--agent", "claude"], { env: { HOME: home } })).code).toBe(0);
  const held = openTurn<{ text: string }>({ text: "bye" });
  let turn = 0;
  const stub = new AnthropicStub((x) => {
    if (opts.script) return opts.script(x);
    turn++;
    // A command Claude Code does not run unasked, then a turn that stays open ("working").
    if (turn === 1) return { tool: { name: "Bash", input: { command: "touch made-by-tool.txt", description: "Make a file" } } };
    if (turn === 2) return { hold: held.promise };
    return { text: "all done" };
  });
  stops.push(() => stub.stop());
  const env = { ...agentEnv(home), ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_API_KEY: key };
  const id = await cw.launch([agentBin("claude"), "--permission-mode", opts.mode ?? "default"], ["--dir", work, ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`])]);
  return { id, stub, held, turns: () => turn, work };
}

describe("the real Claude Code", () => {
  test(
    "hooks installed: working → needs-input → approved → working → idle from its hooks; Esc → idle from the screen",
    async () => {
      const c = await launchClaude({ hooks: true });
      const sub = subscribeStates();
      await waitState(c.id, "idle", 60_000);
      const waiting = cw.run(["wait", String(c.id), "--state", "needs-input", "--timeout", "60"]);
      await cw.ok(["send", String(c.id), "make the file"]);
      expect((await waiting).code).toBe(0);
      expect((await cw.session(c.id)).agent_state_source).toBe("hook");
      // The hook fires before the prompt is drawn: approve what a person would see.
      await approve(c.id, "1", "Do you want to proceed");
      await waitFor(() => c.turns() >= 2, "the turn after the tool", 40_000);
      await waitState(c.id, "working");
      expect(existsSync(join(c.work, "made-by-tool.txt"))).toBe(true);
      c.held.release({ text: "all done" });
      await waitState(c.id, "idle", 40_000, "hook");
      const seen = sub.events().filter((e) => e.session_id === c.id).map((e) => `${e.data.state}/${e.data.source}`);
      // Once approved, the screen may show the turn going on before PostToolUse says so.
      expect(seen.slice(seen.indexOf("working/hook")).map((x: string) => x.replace(/^working\/screen$/, "working/hook"))).toEqual(["working/hook", "needs-input/hook", "working/hook", "idle/hook"]);

      // Esc during a long tool call: Claude Code fires no Stop hook; its screen shows the
      // composer again. (`sleep` is allowed in the project's settings: no prompt.)
      writeFileSync(join(c.work, ".claude", "settings.json"), JSON.stringify({ permissions: { allow: ["Bash(sleep:*)"] } }));
      c.stub.setScript(() => ({ tool: { name: "Bash", input: { command: "sleep 60", description: "Wait a minute" } } }));
      await cw.ok(["send", String(c.id), "wait a minute"]);
      await waitState(c.id, "working", 40_000, "hook");
      await waitFor(async () => /sleep 60[\s\S]*esc to interrupt/.test(await cw.ok(["screen", String(c.id)])), "the tool running on screen", 40_000);
      await cw.ok(["send", String(c.id), "--no-newline", "\x1b"]);
      await waitState(c.id, "idle", 40_000, "screen");
    },
    240_000,
  );

  test(
    "hooks installed: a subagent finishing while its parent works leaves the parent working",
    async () => {
      const parent = openTurn<{ text: string }>({ text: "bye" });
      let subagentDone = false;
      const c = await launchClaude({
        hooks: true,
        userHooks: { SubagentStop: [{ matcher: "", hooks: [{ type: "command", command: "touch subagent-stopped" }] }] },
        // Subagents run without asking in acceptEdits mode.
        mode: "acceptEdits",
        script: (x) => {
          // The subagent's own request: the prompt it was given.
          if (x.prompt.endsWith("List the files")) {
            subagentDone = true;
            return { text: "nothing to see" };
          }
          if (x.prompt.includes("look around")) return { tool: { name: "Agent", input: { description: "Look around", prompt: "List the files", subagent_type: "general-purpose" } } };
          // The parent's turn once the subagent is launched: it stays open.
          return { hold: parent.promise };
        },
      });
      const sub = subscribeStates();
      await waitState(c.id, "idle", 60_000);
      await cw.ok(["send", String(c.id), "look around"]);
      await waitState(c.id, "working", 40_000, "hook");
      await waitFor(() => subagentDone, "the subagent to finish", 40_000);
      // The user's own SubagentStop hook (kept beside cw's by cw hooks install) marks the moment.
      await waitFor(() => existsSync(join(c.work, "subagent-stopped")), "SubagentStop", 40_000);
      await waitFor(async () => !(await cw.ok(["screen", String(c.id)])).includes("general-purpose"), "the subagent to leave the screen", 40_000).catch(() => {});
      expect((await cw.session(c.id)).agent_state).toBe("working");
      // Nothing said idle while the parent worked on after its subagent had stopped.
      const states = sub.events().filter((e) => e.session_id === c.id).map((e) => e.data.state);
      expect(states.slice(states.indexOf("working"))).toEqual(["working"]);
      parent.release({ text: "done looking" });
      // Claude Code may run one more turn to read a backgrounded subagent's result; it ends idle.
      await waitState(c.id, "idle", 40_000, "hook");
    },
    240_000,
  );

  test(
    "no hooks (screen only): working → needs-input → approved → working → idle",
    async () => {
      const c = await launchClaude({ hooks: false });
      await waitState(c.id, "idle", 60_000, "screen");
      await cw.ok(["send", String(c.id), "make the file"]);
      await waitState(c.id, "needs-input", 60_000, "screen");
      await approve(c.id, "1", "Do you want to proceed");
      await waitFor(() => c.turns() >= 2, "the turn after the tool", 40_000);
      await waitState(c.id, "working", 30_000, "screen");
      c.held.release({ text: "all done" });
      await waitState(c.id, "idle", 40_000, "screen");
    },
    240_000,
  );
});

test(
  "the real Codex: its notify program (cw hooks install) gives idle; the screen gives working and needs-input",
  async () => {
    const home = cw.path("home");
    const work = cw.path("work");
    const codexHome = join(home, ".codex");
    mkdirSync(work, { recursive: true });
    const held = openTurn<{ text: string }>({ text: "bye" });
    let turn = 0;
    const stub = new OpenAIStub((x) => {
      // Codex's side requests (a title for the thread) offer no shell.
      if (!x.tools.includes("exec_command")) return { text: "Make the file" };
      turn++;
      // Codex asks before a command that wants out of its read-only sandbox.
      if (turn === 1) return { call: { name: "exec_command", arguments: { cmd: "touch made.txt", sandbox_permissions: "require_escalated", justification: "make the file" } } };
      if (turn === 2) return { hold: held.promise };
      return { text: "all done" };
    });
    stops.push(() => stub.stop());
    seedCodexHome(codexHome, stub.url, [work]);
    const env = { ...agentEnv(home), CODEX_HOME: codexHome, STUB_OPENAI_KEY: "x" };
    expect((await cw.run(["hooks", "install", "--agent", "codex"], { env })).code).toBe(0);
    const sub = subscribeStates();
    const id = await cw.launch([agentBin("codex"), "-a", "on-request", "-s", "read-only"], ["--dir", work, ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`])]);
    await waitState(id, "idle", 60_000, "screen");
    await cw.ok(["send", String(id), "--no-newline", "make the file"]);
    await waitFor(async () => (await cw.ok(["screen", String(id)])).includes("make the file"), "the prompt typed");
    await cw.ok(["send", String(id), "--no-newline", "\r"]);
    await waitState(id, "needs-input", 60_000, "screen");
    await approve(id, "y", "Would you like to run");
    await waitFor(() => turn >= 2, "the turn after the command", 40_000);
    await waitState(id, "working", 30_000);
    held.release({ text: "all done" });
    await waitState(id, "idle", 40_000, "hook");
    // The side thread that writes the thread's title notifies too, while the first turn runs:
    // no idle before the real end (test/agent-state-unit.test.ts shows the keeper's part).
    // (The turn's start shows for less than the screen's 0.4 s when the model asks at once.)
    const seen = sub.events().filter((e) => e.session_id === id).map((e) => e.data.state);
    expect(seen.filter((x, i) => !(i === 1 && x === "working"))).toEqual(["idle", "needs-input", "working", "idle"]);
  },
  240_000,
);

test(
  "the real Gemini CLI with its hooks (cw hooks install merged into its settings): working → needs-input → approved → working → idle",
  async () => {
    const home = cw.path("home");
    const work = cw.path("work");
    mkdirSync(work, { recursive: true });
    writeFileDeep(join(home, ".gemini", "settings.json"), JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } }));
    const held = openTurn<{ text: string }>({ text: "bye" });
    let turn = 0;
    const stub = new GeminiStub(() => {
      turn++;
      if (turn === 1) return { call: { name: "run_shell_command", args: { command: "touch made.txt" } } };
      if (turn === 2) return { hold: held.promise };
      return { text: "all done" };
    });
    stops.push(() => stub.stop());
    const env = { ...agentEnv(home), GOOGLE_GEMINI_BASE_URL: stub.url, GEMINI_API_KEY: "x", GEMINI_CLI_TRUST_WORKSPACE: "true" };
    expect((await cw.run(["hooks", "install", "--agent", "gemini"], { env })).code).toBe(0);
    expect(JSON.parse(readFileSync(join(home, ".gemini", "settings.json"), "utf8")).security.auth.selectedType).toBe("gemini-api-key");
    const sub = subscribeStates();
    const id = await cw.launch([agentBin("gemini")], ["--dir", work, ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`])]);
    await waitState(id, "idle", 60_000, "screen");
    await cw.ok(["send", String(id), "--no-newline", "make the file"]);
    await waitFor(async () => (await cw.ok(["screen", String(id)])).includes("make the file"), "the prompt typed");
    await cw.ok(["send", String(id), "--no-newline", "\r"]);
    await waitState(id, "needs-input", 60_000, "hook");
    await approve(id, "\r", "Allow execution");
    await waitFor(() => turn >= 2, "the turn after the command", 40_000);
    await waitState(id, "working", 30_000, "hook");
    expect(existsSync(join(work, "made.txt"))).toBe(true);
    held.release({ text: "all done" });
    await waitState(id, "idle", 40_000, "hook");
    const seen = sub.events().filter((e) => e.session_id === id).map((e) => `${e.data.state}/${e.data.source}`);
    // Once approved, the screen may show the turn going on before AfterTool says so.
    expect(seen.slice(seen.indexOf("working/hook")).map((x: string) => x.replace(/^working\/screen$/, "working/hook"))).toEqual(["working/hook", "needs-input/hook", "working/hook", "idle/hook"]);
  },
  240_000,
);
