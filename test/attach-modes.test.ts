/**
 * What a person sees around attaching to agents' TUIs, through real tmux: the terminal modes a
 * session set are painted on attach and taken back on detach, Ctrl+B in xterm's
 * modifyOtherKeys form detaches, the notice lands below an inline TUI, history reaches a
 * terminal's scrollback once, clients of different sizes, and no multiplexer variables leak
 * into sessions. Agents are stood in for by printf of the same escape sequences.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { BenchPty } from "../scripts/bench/pty";
import { CW, CwHome, Tmux, waitFor } from "./helpers";

let cw: CwHome;
const tmuxes: Tmux[] = [];
const newTmux = () => {
  const t = new Tmux();
  tmuxes.push(t);
  return t;
};
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});
afterEach(async () => {
  for (const t of tmuxes.splice(0)) await t.kill();
});

const flag = async (t: Tmux, format: string) => (await t.cmd("display", "-p", "-t", "t", format)).trim();

for (const mode of ["lane", "socket"] as const) {
  describe(`attach modes (${mode})`, () => {
    const lanes = mode === "socket" ? "CODEWIRE_LANES=0 " : "";
    const n = (name: string) => `${name}-${mode}`;
    /** A tmux pane running a shell of its own, from which cw attach is run (and run again). */
    async function shellPane(cols = 100, rows = 30): Promise<Tmux> {
      const t = newTmux();
      await t.start("bash --norc --noprofile", cw.env, cols, rows);
      await t.cmd("set", "-s", "extended-keys", "on");
      await t.waitScreen((s) => s.includes("$") || s.includes("#"), "the pane's shell");
      return t;
    }
    async function attachIn(t: Tmux, name: string) {
      await t.type(`${lanes}${CW} attach ${name}`);
      await t.keys("Enter");
      await waitFor(async () => (await cw.session(name)).attached_count === 1, "the attach");
    }
    async function detach(t: Tmux, name: string) {
      await t.keys("C-b", "d");
      await waitFor(async () => (await cw.session(name)).attached_count === 0, "the detach");
      await t.waitScreen((s) => s.includes("detached from session"), "the notice");
    }

    test("Ctrl+B in xterm's modifyOtherKeys encoding (ESC[27;5;98~) then d detaches", async () => {
      const id = await cw.launch(["bash", "--norc", "--noprofile"], [n("mok")]);
      const t = newTmux();
      await t.start(`${lanes}${CW} attach ${n("mok")}`, cw.env);
      await waitFor(async () => (await cw.session(id)).attached_count === 1, "the attach");
      await t.type("\x1b[27;5;98~d");
      const screen = await t.waitScreen((s) => s.includes("[exit 0]"), "the detach");
      expect(screen).toContain(`detached from session ${id}`);
      expect((await cw.session(id)).status).toBe("running");
    });

  });
}

describe("the session's environment", () => {
  test("a session launched inside tmux or screen does not inherit their variables or TERM", async () => {
    // Launched the way a shell inside tmux would run it.
    const out = await cw.ok(["launch", "--", "sh", "-c", "env; echo env-done"], {
      env: { TMUX: "/tmp/tmux-1000/default,1234,0", TMUX_PANE: "%3", STY: "123.pts-1.host", TERM: "tmux-256color", TERM_PROGRAM: "tmux", TERM_PROGRAM_VERSION: "3.3a" },
    });
    const inner = Number(out.trim());
    await cw.waitStatus(inner, "completed");
    const env = await cw.ok(["logs", String(inner), "--plain"]);
    expect(env).toContain("env-done");
    expect(env).not.toMatch(/^(TMUX|TMUX_PANE|STY|TERM_PROGRAM|TERM_PROGRAM_VERSION)=/m);
    expect(env).toMatch(/^TERM=xterm-256color$/m);
    expect(env).toMatch(/^CW_SESSION_ID=/m);
  });
});
