/**
 * The real agents (pinned Claude Code, Codex and Gemini CLI) inside cw sessions, through the
 * compiled binary, against loopback stubs of their vendors' APIs: what an orchestrator does with
 * them must work with them, not only with `cat`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CW, CwHome, processesWithEnv, Tmux, waitFor } from "./helpers";
import type { Exchange } from "./fixtures/anthropic-stub";
import { AGENT_VERSIONS } from "./fixtures/agents";
import { startClaude, startCodex, startGemini, type AgentSession } from "./fixtures/agent-sessions";

const T = 120_000;
let cw: CwHome;
const started: AgentSession[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) s.stop();
  await cw?.cleanup();
});
function keep<S extends AgentSession>(s: S): S {
  started.push(s);
  return s;
}

// Long enough that every agent takes the burst as a paste (Claude above ~60 characters).
const PROMPT = "please multiply six by seven and tell me the product, then stop and wait for the next question";

describe(`real agents take a prompt from cw send (claude ${AGENT_VERSIONS.claude}, codex ${AGENT_VERSIONS.codex}, gemini ${AGENT_VERSIONS.gemini})`, () => {
  test("Claude Code", async () => {
    cw = new CwHome();
    const a = keep(await startClaude(cw, "claude", { script: (x) => (x.prompt.includes("multiply six") ? { text: "the product is forty-two" } : { text: "unexpected" }) }));
    await cw.ok(["send", String(a.id), PROMPT]);
    await a.waitScreen("the product is forty-two", "Claude Code to answer");
    expect(a.stub.turns.some((t) => t.prompt.includes(PROMPT))).toBe(true);
  }, T);

  test("Codex", async () => {
    cw = new CwHome();
    const a = keep(await startCodex(cw, "codex", (x) => (x.prompt.includes("multiply six") ? { text: "the product is forty-two" } : { text: "unexpected" })));
    await cw.ok(["send", String(a.id), PROMPT]);
    await a.waitScreen("the product is forty-two", "Codex to answer");
    // A second prompt is submitted too (Codex took only the first burst as typed).
    await cw.ok(["send", String(a.id), `${PROMPT} again`]);
    await a.waitScreen(/forty-two[\s\S]*forty-two/, "Codex to answer the second prompt");
    expect(a.stub.turns.some((t) => t.prompt.includes(`${PROMPT} again`))).toBe(true);
  }, T);

  test("Gemini CLI", async () => {
    cw = new CwHome();
    const a = keep(await startGemini(cw, "gemini", (x) => (x.prompt.includes("multiply six") ? { text: "the product is forty-two" } : { text: "unexpected" })));
    await cw.ok(["send", String(a.id), PROMPT]);
    await a.waitScreen("the product is forty-two", "Gemini CLI to answer");
  }, T);
});

/**
 * Two real Claude Codes in cw sessions, both with cw's MCP server: A asks B through
 * codewire_request; the request reaches B's composer with its id and how to answer; B's turn
 * answers with codewire_reply; A's tool call returns B's answer. Then fire-and-forget and broadcast.
 */
describe("two Claude Codes talk through cw's MCP server", () => {
  const mcp = (cwHome: CwHome) => ({
    mcpServers: { codewire: { type: "stdio", command: CW, args: ["mcp-server"], env: { CODEWIRE_HOME: cwHome.dir } } },
  });
  // The person allowed cw's tools; nothing else is pre-approved.
  const settings = { permissions: { allow: ["mcp__codewire"] } };
  const toolResult = (x: Exchange) => x.toolResults.map((r) => r.text).join("\n");

  test("request → B's composer → codewire_reply → A's tool returns the answer; msg and broadcast reach B", async () => {
    cw = new CwHome();
    const b = keep(
      await startClaude(cw, "b", {
        config: mcp(cw),
        settings,
        flags: ["--name", "agent-b", "--tag", "team"],
        script: (x) => {
          if (x.toolResults.length) return { text: `B is done: ${toolResult(x).slice(0, 60)}` };
          const req = /\[request (\S+) from agent-a; answer with the codewire_reply tool/.exec(x.prompt);
          if (req) return { tool: { name: "mcp__codewire__codewire_reply", input: { request_id: req[1], body: "the api binds port 8443" } } };
          if (x.prompt.includes("deploy finished")) return { text: "B noted the deploy" };
          if (x.prompt.includes("schema changed")) return { text: "B will pull the schema" };
          return { text: "B has nothing to say" };
        },
      }),
    );
    const a = keep(
      await startClaude(cw, "a", {
        config: mcp(cw),
        settings,
        flags: ["--name", "agent-a", "--tag", "team"],
        script: (x) => {
          if (x.toolResults.length) return { text: `A got: ${toolResult(x).slice(0, 120)}` };
          if (x.prompt.includes("ask b for the port")) return { tool: { name: "mcp__codewire__codewire_request", input: { to: "agent-b", body: "which port does the api bind?", delivery: "both", timeout_s: 90 } } };
          if (x.prompt.includes("tell b about the deploy")) return { tool: { name: "mcp__codewire__codewire_msg", input: { to: "agent-b", body: "deploy finished", delivery: "both" } } };
          if (x.prompt.includes("tell the team")) return { tool: { name: "mcp__codewire__codewire_broadcast", input: { tags: ["team"], body: "the schema changed, pull again", delivery: "both" } } };
          return { text: "A has nothing to do" };
        },
      }),
    );

    await cw.ok(["send", String(a.id), "ask b for the port"]);
    // B's model was given the request with its id and the way to answer, typed into its composer.
    await waitFor(() => b.stub.turns.find((t) => t.prompt.includes("which port does the api bind?")), "the request to reach B's model", 60_000);
    // A's tool call returned B's answer, and A's model saw it.
    await waitFor(() => a.stub.turns.find((t) => t.toolResults.some((r) => r.text.includes("the api binds port 8443"))), "A's codewire_request to return B's reply", 60_000);
    // Claude Code hands its model the tool's structured result.
    await a.waitScreen('A got: {"outcome":"replied"', "A's screen to show the answer");
    const replied = JSON.parse(await cw.ok(["inbox", "agent-a", "--json"]));
    expect(JSON.stringify(replied)).toContain("the api binds port 8443");

    await cw.ok(["send", String(a.id), "tell b about the deploy"]);
    await b.waitScreen("B noted the deploy", "B to take the message as a prompt");
    expect(b.stub.turns.some((t) => /\[message from agent-a\] deploy finished/.test(t.prompt))).toBe(true);
    // As a person would: the next prompt once A's turn is over.
    await a.waitScreen('A got: {"message":{', "A's codewire_msg to return");

    await cw.ok(["send", String(a.id), "tell the team"]);
    await b.waitScreen("B will pull the schema", "B to take the broadcast");
    await a.waitScreen(/A got: \{"messages":\[/, "A's broadcast to report its recipients");
  }, 240_000);
});

describe("what an orchestrator reads of a real agent is what a person sees", () => {
  test("Claude Code: logs --plain, status and the summary hold its words, not empty lines", async () => {
    cw = new CwHome();
    // The prompt as Claude Code's argument: this test is about reading, not typing.
    const a = keep(await startClaude(cw, "claude", { args: [PROMPT], script: () => ({ text: "the product is forty-two, computed with care" }) }));
    await a.waitScreen("the product is forty-two", "Claude Code to answer");
    const plain = await cw.ok(["logs", String(a.id), "--plain"]);
    expect(plain).toContain("the product is forty-two, computed with care");
    expect(plain).toContain(PROMPT.slice(0, 40));
    // Words separated by cursor moves (ESC[nG) keep their spaces.
    expect(plain).toContain("Claude Code v");
    // Its answer sits above the composer and footer: a screen's worth of lines reaches it.
    const status = JSON.parse(await cw.ok(["status", String(a.id), "--lines", "40", "--json"]));
    expect(JSON.stringify(status)).toContain("the product is forty-two");
    const tail = await cw.ok(["logs", String(a.id), "--plain", "--tail", "40"]);
    expect(tail).toContain("the product is forty-two");
  }, T);
});

describe("attaching to a real agent, as a person does (through tmux)", () => {
  test("Claude Code: its hidden cursor and mouse mode are painted on attach, a prompt typed through the attach is answered, and both modes are gone after detach (no ^[[9;5u keys in the shell)", async () => {
    cw = new CwHome();
    const a = keep(await startClaude(cw, "claude", { script: () => ({ text: "the answer through the lane is forty-two" }) }));
    const t = new Tmux();
    try {
      await t.start("bash --norc --noprofile", cw.env, 120, 40);
      await t.cmd("set", "-s", "extended-keys", "on");
      await t.waitScreen((s) => /[$#]/.test(s), "the pane's shell");
      const flag = async (f: string) => (await t.cmd("display", "-p", "-t", "t", f)).trim();
      await t.type(`${CW} attach ${a.id}`);
      await t.keys("Enter");
      await t.waitScreen((s) => s.includes("❯"), "Claude Code's composer in the pane");
      // Claude Code hides the cursor and turns on SGR mouse reporting; the paint carries both.
      await waitFor(async () => (await flag("#{cursor_flag} #{mouse_sgr_flag}")) === "0 1", "the cursor hidden and SGR mouse on");
      // A person types a prompt: the node's lane thread carries the keys to Claude Code and its
      // drawing back to the pane.
      await t.type("what is six times seven");
      await t.waitScreen((s) => s.includes("what is six times seven"), "the prompt in Claude Code's composer");
      await t.keys("Enter");
      await t.waitScreen((s) => s.includes("forty-two"), "Claude Code's answer in the pane", 30_000);
      const log = readFileSync(cw.path("node.log"), "utf8");
      expect(log).toContain("lane thread started");
      expect(log).not.toContain("attach serves terminals directly");
      await t.keys("C-b", "d");
      await t.waitScreen((s) => s.includes("detached from session"), "the detach notice");
      expect(await flag("#{cursor_flag} #{mouse_sgr_flag} #{mouse_any_flag}")).toBe("1 0 0");
      // Claude Code turned on modifyOtherKeys / kitty keys while running: Ctrl+Tab in the shell
      // afterwards must not arrive as an escape sequence.
      await t.type("cat -v");
      await t.keys("Enter");
      await t.keys("C-Tab", "y", "z");
      await t.waitScreen((s) => s.includes("yz"), "the keys in cat -v");
      expect(await t.capture()).not.toMatch(/\[9;5u|\[27;5;9~/);
    } finally {
      await t.kill();
    }
  }, T);
});

describe("cw kill ends everything an agent started", () => {
  test("Codex: its app-server daemon, in a session of its own, does not outlive cw kill", async () => {
    cw = new CwHome();
    // The prompt as Codex's argument: this test is about kill, not about typing.
    const a = keep(await startCodex(cw, "codex", () => ({ text: "the product is forty-two" }), { args: [PROMPT] }));
    await a.waitScreen("the product is forty-two", "Codex to answer");
    const mine = () => processesWithEnv(`CW_SESSION_ID=${a.id}`).filter((pid) => processesWithEnv(`CODEWIRE_HOME=${cw.dir}`).includes(pid));
    expect(mine().length).toBeGreaterThan(0);
    await cw.ok(["kill", String(a.id)]);
    // Codex starts `codex app-server --managed-daemon` under setsid; it reparents to init and
    // shrugs off SIGTERM for seconds. After cw kill answers, nothing of the session may remain.
    await waitFor(() => mine().length === 0, "every process of the session to be gone", 5_000).catch(() => {
      throw new Error(`left running after cw kill: ${mine().map((p) => `${p} ${readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ")}`).join("; ")}`);
    });
  }, T);
});
