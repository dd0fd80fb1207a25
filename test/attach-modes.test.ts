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

    test("the screen's modes are painted on attach: the hidden cursor, SGR mouse, the title", async () => {
      await cw.launch(["bash", "-c", "printf 'x\\033[?25l\\033[?1000h\\033[?1006h\\033]2;agent-title\\007'; sleep 600"], [n("hidden")]);
      const t = newTmux();
      await t.start(`${lanes}${CW} attach ${n("hidden")}`, cw.env);
      await t.waitScreen((s) => s.startsWith("x"), "the paint");
      await waitFor(async () => (await flag(t, "#{cursor_flag}")) === "0", "the cursor to be hidden");
      expect(await flag(t, "#{mouse_sgr_flag} #{mouse_standard_flag}")).toBe("1 1");
      expect(await flag(t, "#{pane_title}")).toBe("agent-title");
    });

    test("after detaching, the modes the session set are gone: cursor, mouse, modifyOtherKeys (no ^[[9;5u in the shell)", async () => {
      await cw.launch(["bash", "--norc", "--noprofile"], [n("keys")]);
      const t = await shellPane();
      const title = await flag(t, "#{pane_title}");
      await attachIn(t, n("keys"));
      // What Claude Code does once it learns the terminal's keyboard: modifyOtherKeys and kitty flags.
      await t.type("printf 'ready\\033[>4;2m\\033[>1u\\033[?25l\\033[?1002h\\033[?1006h\\033]2;in-session\\007'");
      await t.keys("Enter");
      await waitFor(async () => (await flag(t, "#{cursor_flag} #{mouse_sgr_flag}")) === "0 1", "the modes to reach the terminal");
      await detach(t, n("keys"));
      expect(await flag(t, "#{cursor_flag} #{mouse_sgr_flag} #{mouse_button_flag}")).toBe("1 0 0");
      expect(await flag(t, "#{pane_title}")).toBe(title);
      // With modifyOtherKeys still on, tmux would send Ctrl+Tab to the shell as ^[[9;5u.
      await t.type("cat -v");
      await t.keys("Enter");
      await t.keys("C-Tab", "y", "z");
      const screen = await t.waitScreen((s) => /^\^?I?yz$/m.test(s) || s.includes("9;5u"), "cat to echo the keys");
      expect(screen).not.toContain("9;5u");
      await t.keys("C-c");
    });

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

    test("detaching from an inline TUI leaves its composer and footer whole and the notice on a clean line below", async () => {
      // Drawn on the normal screen as Claude Code and Gemini do, the cursor back on the input line.
      const ui = "printf 'welcome to the agent\\r\\n+--------+\\r\\n| > \\r\\n+--------+\\r\\n  ? for shortcuts\\033[3A\\033[5G'; sleep 600";
      await cw.launch(["bash", "-c", ui], [n("inline")]);
      const t = await shellPane();
      await attachIn(t, n("inline"));
      await t.waitScreen((s) => s.includes("? for shortcuts"), "the TUI");
      await detach(t, n("inline"));
      await t.type("echo after-$((40+2))");
      await t.keys("Enter");
      const screen = await t.waitScreen((s) => /^after-42$/m.test(s), "the shell's output");
      const lines = screen.split("\n");
      const footer = lines.indexOf("  ? for shortcuts");
      expect(lines.slice(footer - 3, footer + 1)).toEqual(["+--------+", "| >", "+--------+", "  ? for shortcuts"]);
      expect(lines[footer + 1]).toStartWith("[cw] detached from session");
      expect(lines.slice(footer + 2).join("\n")).toContain("after-42");
    });

    test("three attaches from one terminal leave one copy of the history in its scrollback", async () => {
      await cw.launch(["bash", "-c", "for i in $(seq 1 100); do echo hist-line-$i; done; sleep 600"], [n("hist")]);
      await waitFor(async () => (await cw.ok(["logs", n("hist")])).includes("hist-line-100"), "the output");
      const t = await shellPane();
      for (let i = 1; i <= 3; i++) {
        await attachIn(t, n("hist"));
        await t.waitScreen((s) => s.includes("hist-line-100"), `attach ${i}`);
        await detach(t, n("hist"));
      }
      const all = (await t.cmd("capture-pane", "-p", "-S", "-", "-t", "t")).split("\n");
      // The session's screen showed lines 72-100: lines 1-71 are its history, sent once, in order.
      for (const line of ["hist-line-1", "hist-line-50", "hist-line-71", "hist-line-100"]) expect(all.filter((l) => l === line)).toHaveLength(1);
      const first = all.indexOf("hist-line-1");
      expect(all.slice(first, first + 71)).toEqual(Array.from({ length: 71 }, (_, i) => `hist-line-${i + 1}`));
    });
  });
}

describe("the bytes a terminal is sent", () => {
  /** Everything `cw attach name` writes to its terminal until it exits, after `whileAttached`. */
  async function attachBytes(name: string, whileAttached: (pty: BenchPty) => Promise<void>): Promise<string> {
    const pty = new BenchPty({ cmd: [CW, "attach", name], env: cw.env, cols: 80, rows: 24 });
    try {
      let seen = "";
      const take = () => {
        const r = pty.read(50);
        if (r.kind === "data") seen += Buffer.from(pty.buf.subarray(0, r.n)).toString("latin1");
        return r.kind;
      };
      await waitFor(async () => (await cw.session(name)).attached_count === 1, "the attach");
      await whileAttached(pty);
      pty.write("\x02d");
      const until = Date.now() + 10_000;
      while (!seen.includes("detached from session") && Date.now() < until && take() !== "eof");
      return seen;
    } finally {
      pty.close();
    }
  }

  test("detaching resets what the session set, to defaults: kitty flags on both screens, alternate scroll only if it was set", async () => {
    await cw.launch(["bash", "-c", "printf '\\033[?1007h\\033[>1u\\033[=3;1u\\033[5 q\\033[?7l\\033[4h'; sleep 600"], ["setter"]);
    await waitFor(async () => (await cw.ok(["logs", "setter"])).includes("5 q"), "the output");
    const after = (await attachBytes("setter", async () => {})).split("\x1b[22;0t").pop()!;
    const painted = after.slice(0, after.indexOf("\x1b7\x1b[r"));
    expect(painted).toContain("\x1b[?1007h");
    expect(painted).toContain("\x1b[>3u"); // pushed 1, then set to 3
    expect(painted).toContain("\x1b[5 q");
    const reset = after.slice(after.indexOf("\x1b7\x1b[r"));
    expect(reset).toContain("\x1b[?1007l");
    expect(reset).toContain("\x1b[<99u\x1b[?1049l\x1b[?47l\x1b[=0;1u\x1b[<99u");
    expect(reset).toContain("\x1b[0 q");
    expect(reset).toContain("\x1b[?7h"); // autowrap back on
    expect(reset).toContain("\x1b[4l"); // insert mode off
    expect(reset).toContain("\x1b[23;0t");

    await cw.launch(["bash", "-c", "echo plain; sleep 600"], ["plain"]);
    const plain = await attachBytes("plain", async () => {});
    // Terminals differ in alternate scroll's default (VTE has it on): never touched unless the session did.
    expect(plain).not.toContain("?1007");
  });

  test("while nobody is attached the node answers the kitty keyboard query with the flags the program set", async () => {
    const id = await cw.launch(["bash", "-c", "stty raw -echo; printf '\\033[>5u\\033[?u'; IFS= read -r -s -d u -t 5 flags; stty sane; echo; echo \"flags=${flags#*[}\""]);
    await cw.waitStatus(id, "completed");
    expect(await cw.ok(["logs", String(id), "--plain"])).toContain("flags=?5");
  });
});

describe("clients of different sizes", () => {
  test("latest (the default): the session takes the size of the client that attached or typed last; a larger one shows the unused area dotted", async () => {
    const id = await cw.launch(["bash", "--norc", "--noprofile"], ["sizes"]);
    const big = newTmux();
    await big.start(`${CW} attach sizes`, cw.env, 100, 30);
    await waitFor(async () => (await cw.session(id)).cols === 100, "the first client's size");
    const small = newTmux();
    await small.start(`${CW} attach sizes`, cw.env, 60, 15);
    await waitFor(async () => (await cw.session(id)).cols === 60, "the newest client's size");
    expect((await cw.session(id)).rows).toBe(15);
    const dotted = await big.waitScreen((s) => s.split("\n")[20]?.startsWith("····") ?? false, "the unused area dotted");
    expect(dotted.split("\n")[3]!.slice(60)).toMatch(/^·+$/);
    // Output scrolling the session's last row scrolls the session's rows in the larger terminal too.
    await small.type("seq 1 40");
    await small.keys("Enter");
    const scrolled = await big.waitScreen((s) => s.split("\n")[13]?.startsWith("40") ?? false, "the output in the larger client");
    expect(scrolled.split("\n").slice(15, 30).every((l) => /^·{100}$/.test(l))).toBe(true);
    // Typing in the larger client gives the session its size back, and the program sees it.
    await big.type("echo cols=$(tput cols)");
    await big.keys("Enter");
    await waitFor(async () => (await cw.session(id)).cols === 100, "the typing client's size");
    await big.type("echo now=$(tput cols)x$(tput lines)");
    await big.keys("Enter");
    const grown = await big.waitScreen((s) => s.includes("now=100x30"), "the program to see the larger size");
    // Nothing dotted is left in the area the session uses again.
    expect(grown).not.toContain("·");
    await cw.ok(["kill", String(id)]);
  });

  test("window_size = \"smallest\" in config.toml: every client sees the whole session", async () => {
    const home = new CwHome();
    try {
      writeFileSync(home.path("config.toml"), '[attach]\nwindow_size = "smallest"\n');
      const id = await home.launch(["bash", "--norc", "--noprofile"], ["smallest"]);
      const small = newTmux();
      await small.start(`${CW} attach smallest`, home.env, 60, 15);
      await waitFor(async () => (await home.session(id)).cols === 60, "the small client's size");
      const big = newTmux();
      await big.start(`${CW} attach smallest`, home.env, 100, 30);
      await waitFor(async () => (await home.session(id)).attached_count === 2, "both clients");
      await big.type("echo typed-in-big");
      await big.keys("Enter");
      await small.waitScreen((s) => s.includes("typed-in-big"), "the echo in the small client");
      const s = await home.session(id);
      expect([s.cols, s.rows]).toEqual([60, 15]);
      await big.waitScreen((screen) => screen.split("\n")[20]?.startsWith("····") ?? false, "the big client's unused area dotted");
      // The small client leaves: the session grows to the one left.
      await small.keys("C-b", "d");
      await waitFor(async () => (await home.session(id)).cols === 100, "the remaining client's size");
    } finally {
      await home.cleanup();
    }
  });
});

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
