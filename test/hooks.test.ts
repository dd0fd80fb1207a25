/**
 * `cw hooks install|status|uninstall` on a throwaway HOME, through the compiled binary: merged
 * with the user's own hooks, idempotent, and uninstall leaves theirs. And `cw hook` itself: always
 * exit 0, silent, fast, whether inside a session or not.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { CW, CwHome, waitFor } from "./helpers";

let cw: CwHome;
let home: string;
beforeEach(() => {
  cw = new CwHome();
  home = cw.path("home");
  mkdirSync(`${home}/.claude`, { recursive: true });
  mkdirSync(`${home}/.codex`, { recursive: true });
});
afterEach(() => cw.cleanup());

const theirs = { type: "command", command: "notify-send done" };
const hooks = (args: string[]) => cw.run(["hooks", ...args], { env: { HOME: home } });
const claudeSettings = () => JSON.parse(readFileSync(`${home}/.claude/settings.json`, "utf8"));

test("install merges with the user's hooks, twice changes nothing, uninstall leaves theirs", async () => {
  writeFileSync(`${home}/.claude/settings.json`, JSON.stringify({ theme: "dark", hooks: { Stop: [{ matcher: "", hooks: [theirs] }] } }));
  const toml = 'model = "o3"\n\n[projects."/x"]\ntrust_level = "trusted"\n';
  writeFileSync(`${home}/.codex/config.toml`, toml);

  const dry = await hooks(["install", "--dry-run"]);
  expect(dry.stdout).toContain("claude: would be installed");
  expect(claudeSettings().hooks.Stop).toHaveLength(1);

  expect((await hooks(["install"])).code).toBe(0);
  const s = claudeSettings();
  expect(s.theme).toBe("dark");
  expect(s.hooks.Stop[0].hooks[0]).toEqual(theirs);
  expect(s.hooks.Stop[1].hooks[0].command).toBe(`${CW} hook claude Stop`);
  for (const e of ["UserPromptSubmit", "PermissionRequest", "Notification", "PostToolUse", "SessionEnd"]) expect(JSON.stringify(s.hooks[e])).toContain(`hook claude ${e}`);
  // Top level, before the first table: a key after [projects."/x"] would belong to it.
  expect(readFileSync(`${home}/.codex/config.toml`, "utf8").split("\n")[0]).toBe(`notify = ["${CW}", "hook", "codex", "notify"]`);
  expect(JSON.parse(readFileSync(`${home}/.gemini/settings.json`, "utf8")).hooks.AfterAgent[0].hooks[0].command).toBe(`${CW} hook gemini AfterAgent`);

  const before = readFileSync(`${home}/.claude/settings.json`, "utf8");
  const again = await hooks(["install"]);
  expect(again.stdout).toContain("claude: already installed");
  expect(readFileSync(`${home}/.claude/settings.json`, "utf8")).toBe(before);
  expect(JSON.parse((await hooks(["status", "--json"])).stdout).map((r: any) => r.before)).toEqual(["installed", "installed", "installed"]);

  expect((await hooks(["uninstall"])).code).toBe(0);
  expect(claudeSettings()).toEqual({ theme: "dark", hooks: { Stop: [{ matcher: "", hooks: [theirs] }] } });
  expect(readFileSync(`${home}/.codex/config.toml`, "utf8")).toBe(toml);
  expect((await hooks(["status"])).stdout).toContain("claude: not installed");
});

test("a notify program of the user's is kept, and said; project scope; broken JSON is not overwritten", async () => {
  writeFileSync(`${home}/.codex/config.toml`, 'notify = ["my-notifier"]\n');
  const r = await hooks(["install", "--agent", "codex"]);
  expect(r.stdout).toContain("left alone");
  expect(readFileSync(`${home}/.codex/config.toml`, "utf8")).toBe('notify = ["my-notifier"]\n');

  const project = cw.path("project");
  mkdirSync(project);
  expect((await hooks(["install", "--agent", "claude", "--scope", "project", "--dir", project])).code).toBe(0);
  expect(readFileSync(`${project}/.claude/settings.json`, "utf8")).toContain("hook claude Stop");

  writeFileSync(`${home}/.claude/settings.json`, "{ not json");
  const bad = await hooks(["install", "--agent", "claude"]);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toContain("not valid JSON");
  expect(readFileSync(`${home}/.claude/settings.json`, "utf8")).toBe("{ not json");
});

test("cw hook: exit 0 and silent outside a session, with no node, for unknown agents; inside one it sets the state", async () => {
  // Outside any session (even if these tests run in one), then in a session of a node not running.
  const envs: Record<string, string>[] = [{ CW_SESSION_ID: "" }, { CW_SESSION_ID: "1" }];
  for (const env of envs) {
    const started = performance.now();
    const r = await cw.run(["hook", "claude", "Stop"], { stdin: "{}", env });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "", ""]);
    expect(performance.now() - started).toBeLessThan(2000);
  }
  expect(await cw.run(["hook", "bogus"], { env: { CW_SESSION_ID: "1" } })).toEqual({ code: 0, stdout: "", stderr: "" });
  expect(await cw.run(["hook"], { env: { CW_SESSION_ID: "1" } })).toEqual({ code: 0, stdout: "", stderr: "" });
  // No node was started by any of that.
  expect(cw.nodePid()).toBeUndefined();

  const id = await cw.launch(["sleep", "60"]);
  const hook = (event: string, json: string) => cw.run(["hook", "claude", event], { stdin: json, env: { CW_SESSION_ID: String(id) } });
  expect((await hook("UserPromptSubmit", '{"prompt":"go"}')).code).toBe(0);
  let s = await cw.session(id);
  expect([s.agent, s.agent_state, s.agent_state_source]).toEqual(["claude", "working", "hook"]);
  await hook("Notification", '{"notification_type":"permission_prompt","message":"Claude needs your permission to use Bash"}');
  expect((await cw.session(id)).agent_state).toBe("needs-input");
  await hook("SubagentStop", "{}");
  expect((await cw.session(id)).agent_state).toBe("needs-input");
  await hook("Stop", '{"stop_hook_active":false}');
  expect((await cw.session(id)).agent_state).toBe("idle");
  // Codex's notify gives its JSON as an argument. (Its idle also waits for a screen that shows
  // idle: test/agent-state*.test.ts.)
  await cw.run(["hook", "codex", "notify", '{"type":"agent-turn-complete"}'], { env: { CW_SESSION_ID: String(id) } });
  s = await cw.session(id);
  expect([s.agent, s.agent_state]).toEqual(["codex", "idle"]);
  const events = readFileSync(cw.path("sessions", String(id), "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "session.state");
  expect(events.map((e) => `${e.data.previous}>${e.data.state}`)).toEqual(["none>working", "working>needs-input", "needs-input>idle"]);
  await waitFor(async () => (await cw.ok(["list"])).includes("idle "), "cw list to show idle");
});
