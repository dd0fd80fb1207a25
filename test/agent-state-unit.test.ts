/**
 * The agent state machine and each agent's hook meanings and screen patterns, without running
 * anything. The screens are the real agents' (test/fixtures/screens/, captured from `cw screen`
 * of Claude Code 2.1.332, Codex 0.171.0 and Gemini CLI 0.61.0 against the API stubs).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AGENTS, agentOfCommand } from "../src/node/agents";
import { AgentKeeper } from "../src/node/agents/keeper";
import { AgentStateMachine, HOOK_TRUST_MS, SCREEN_SETTLE_MS } from "../src/node/agents/state";

const screen = (name: string) => readFileSync(join(import.meta.dir, "fixtures/screens", `${name}.txt`), "utf8").split("\n");

describe("screens of the real agents", () => {
  for (const agent of ["claude", "codex", "gemini"] as const) {
    for (const [file, state] of [["permission", "needs-input"], ["working", "working"], ["idle", "idle"]] as const) {
      test(`${agent}: ${file} → ${state}`, () => expect(AGENTS[agent].screenState(screen(`${agent}-${file}`))).toBe(state));
    }
  }
  test("gemini while its hooks run (their long command lines push its \"esc to cancel\" off the screen) → working", () =>
    expect(AGENTS.gemini.screenState(screen("gemini-hooks-running"))).toBe("working"));
  test("claude asking a choice of its own (auto mode cannot reach its safety check) → needs-input", () => expect(AGENTS.claude.screenState(screen("claude-choice"))).toBe("needs-input"));
  test("claude after Esc interrupted its turn: idle (no Stop hook fires then)", () => expect(AGENTS.claude.screenState(screen("claude-interrupted"))).toBe("idle"));
  test("claude: a past prompt (❯ in the history) is not its composer", () => {
    expect(AGENTS.claude.screenState(["❯ run the hello command", "", "● Done.", "─".repeat(40), "✻ Compacting conversation…"])).toBeUndefined();
  });
  test("a plain shell's screen says nothing", () => {
    for (const a of Object.values(AGENTS)) expect(a.screenState(["$ ls", "a b c", "$ "])).toBeUndefined();
  });
});

describe("hook meanings", () => {
  const c = AGENTS.claude;
  test("claude", () => {
    expect(c.hookMeaning("UserPromptSubmit", {})).toBe("working");
    expect(c.hookMeaning("PermissionRequest", { tool_name: "Bash" })).toBe("needs-input");
    expect(c.hookMeaning("Notification", { notification_type: "permission_prompt" })).toBe("needs-input");
    expect(c.hookMeaning("Notification", { notification_type: "idle_prompt" })).toBe("idle");
    expect(c.hookMeaning("Notification", { notification_type: "agent_needs_input", message: "Auto mode can't check actions in this session and needs your choice" })).toBe("needs-input");
    expect(c.hookMeaning("PreToolUse", { tool_name: "AskUserQuestion" })).toBe("needs-input");
    expect(c.hookMeaning("PreToolUse", { tool_name: "Bash" })).toBeUndefined();
    expect(c.hookMeaning("Stop", {})).toBe("idle");
    expect(c.hookMeaning("SessionEnd", {})).toBe("ended");
  });
  test("a subagent finishing, or a notice that an agent completed, says nothing of its parent", () => {
    expect(c.hookMeaning("SubagentStop", {})).toBeUndefined();
    expect(c.hookMeaning("Notification", { notification_type: "agent_completed", message: "Agent completed" })).toBeUndefined();
  });
  test("codex notify and gemini", () => {
    expect(AGENTS.codex.hookMeaning("notify", { type: "agent-turn-complete" })).toBe("idle");
    expect(AGENTS.gemini.hookMeaning("BeforeAgent", {})).toBe("working");
    expect(AGENTS.gemini.hookMeaning("Notification", { notification_type: "ToolPermission" })).toBe("needs-input");
    expect(AGENTS.gemini.hookMeaning("AfterAgent", {})).toBe("idle");
  });
  test("the agent of a command line", () => {
    expect(agentOfCommand(["/opt/x/node_modules/.bin/claude", "--permission-mode", "default"])?.name).toBe("claude");
    expect(agentOfCommand(["npx", "codex"])?.name).toBe("codex");
    expect(agentOfCommand(["bash", "-c", "echo gemini"])).toBeUndefined();
  });
});

describe("the state machine", () => {
  function machine() {
    let t = 1_000_000;
    const m = new AgentStateMachine(() => t);
    return { m, tick: (ms: number) => (t += ms) };
  }

  test("a hook decides at once; a subagent's event changes nothing", () => {
    const { m } = machine();
    expect(m.hook("working")).toBe(true);
    expect([m.state, m.source]).toEqual(["working", "hook"]);
    expect(m.hook(undefined)).toBe(false);
    expect(m.state).toBe("working");
    expect(m.hook("ended")).toBe(true);
    expect([m.state, m.source]).toEqual(["none", null]);
  });

  test("screen alone: decides once it has shown the same state for a moment", () => {
    const { m, tick } = machine();
    const first = m.screen("idle");
    expect(first).toEqual({ changed: false, recheckInMs: SCREEN_SETTLE_MS });
    tick(SCREEN_SETTLE_MS);
    expect(m.screen("idle").changed).toBe(true);
    expect([m.state, m.source]).toEqual(["idle", "screen"]);
    // A frame drawn in passing does not count.
    m.screen("working");
    tick(100);
    m.screen("idle");
    expect(m.state).toBe("idle");
  });

  test("beside hooks the screen corrects a stale hook, but not within 2 s of it (Esc: no Stop)", () => {
    const { m, tick } = machine();
    m.hook("working");
    tick(50);
    expect(m.screen("idle").recheckInMs).toBe(HOOK_TRUST_MS - 50);
    tick(HOOK_TRUST_MS - 60);
    expect(m.screen("idle").changed).toBe(false);
    tick(10);
    expect(m.screen("idle").changed).toBe(true);
    expect([m.state, m.source]).toEqual(["idle", "screen"]);
  });

  test("long after the last hook the screen settles as fast as alone (states the hooks never report)", () => {
    const { m, tick } = machine();
    m.hook("idle");
    tick(HOOK_TRUST_MS * 5);
    expect(m.screen("needs-input").recheckInMs).toBe(SCREEN_SETTLE_MS);
    tick(SCREEN_SETTLE_MS);
    expect(m.screen("needs-input").changed).toBe(true);
    expect([m.state, m.source]).toEqual(["needs-input", "screen"]);
  });

  test("a hook resets the screen's patience; a screen that says nothing clears it", () => {
    const { m, tick } = machine();
    m.hook("needs-input");
    m.screen("working");
    tick(HOOK_TRUST_MS - 10);
    m.hook("needs-input");
    tick(20);
    expect(m.screen("working").changed).toBe(false);
    m.screen(undefined);
    tick(HOOK_TRUST_MS);
    expect(m.screen("working").changed).toBe(false);
    tick(HOOK_TRUST_MS);
    expect(m.screen("working").changed).toBe(true);
  });
});

describe("the keeper of a session", () => {
  function keeper(command: string[], shown: () => string) {
    const changes: string[] = [];
    const k = new AgentKeeper(command, async () => screen(shown()), (c) => changes.push(`${c.state}/${c.source}`));
    return { k, changes };
  }

  test("output that comes while the screen is being read gets a read of its own", async () => {
    let shown = "claude-idle";
    let block = false;
    let gate: (() => void) | undefined;
    const changes: string[] = [];
    const k = new AgentKeeper(["claude"], async () => {
      const lines = screen(shown);
      if (block) {
        block = false;
        await new Promise<void>((r) => (gate = r));
      }
      return lines;
    }, (c) => changes.push(c.state));
    await until(() => changes.includes("idle"));
    block = true;
    k.output();
    await until(() => gate !== undefined);
    // The read under way took the idle screen; the agent draws its turn meanwhile.
    shown = "claude-working";
    k.output();
    // Not a wait for something to happen: the keeper's own read timer (at most READ_EVERY_MS)
    // must fire while this read is still under way, which is the case under test.
    await Bun.sleep(400);
    gate!();
    await until(() => changes.includes("working"));
    k.close();
  });

  test("with reads pushed by the screen's owner: watched as its agent, a new state taken once it has settled (asking for the read after the wait)", async () => {
    const watched: string[] = [];
    let asks = 0;
    const changes: string[] = [];
    const k = new AgentKeeper(
      ["claude"],
      async () => undefined,
      (c) => changes.push(`${c.state}/${c.source}`),
      { watch: (agent) => watched.push(agent), ask: () => asks++ },
    );
    expect(watched).toEqual(["claude"]);
    // Output does nothing of its own (the owner reads after handing it over), and asks for nothing.
    k.output();
    expect(asks).toBe(0);
    k.screenRead({ shown: "working" });
    expect(changes).toEqual([]); // seen once: not yet settled
    // The keeper asks for a read once the change could have settled.
    await until(() => asks === 1, SCREEN_SETTLE_MS + 1000);
    k.screenRead({ shown: "working" });
    expect(changes).toEqual(["working/screen"]);
    k.close();
    k.screenRead({ shown: "idle" }); // a read that comes after the close changes nothing
    expect(changes).toEqual(["working/screen"]);
  });

  test("with reads pushed: a program not known as an agent is not watched until an agent's hook names it", () => {
    const watched: string[] = [];
    const k = new AgentKeeper(["bash", "-c", "my-wrapper"], async () => undefined, () => {}, { watch: (agent) => watched.push(agent), ask: () => {} });
    expect(watched).toEqual([]);
    k.hook("codex", "notify", { type: "agent-turn-complete" });
    k.hook("codex", "notify", { type: "agent-turn-complete" });
    expect(watched).toEqual(["codex"]);
    k.close();
  });

  test("Codex's notify gives idle once its screen shows idle too", async () => {
    const { k, changes } = keeper(["codex"], () => "codex-idle");
    await k.hook("codex", "notify", { type: "agent-turn-complete" });
    await until(() => changes.includes("idle/hook"));
    k.close();
  });

  test("...and none while its screen shows the first turn still running (the title's side thread notifies)", async () => {
    let shown = "codex-working";
    const { k, changes } = keeper(["codex"], () => shown);
    await until(() => changes.includes("working/screen"));
    await k.hook("codex", "notify", { type: "agent-turn-complete" });
    await Bun.sleep(1600); // longer than the keeper waits for the screen's word (IDLE_CONFIRM_MS)
    expect(changes).toEqual(["working/screen"]);
    expect(k.machine.hooked).toBe(false);
    shown = "codex-permission";
    k.output();
    await until(() => changes.includes("needs-input/screen"));
    k.close();
  });
});

/** Polls `ok` until it holds (these tests run no binary, so no helpers.ts). */
async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(20);
  }
}
