/**
 * What a person sees when attaching, checked through a real tmux pane: typing, detaching,
 * coming back to a full-screen program, resizing, several clients, the kitty detach chord, and
 * terminal queries answered while nobody is attached.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CW, CwHome, running, Tmux, waitFor } from "./helpers";

let cw: CwHome;
let tmux: Tmux;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});
afterEach(async () => {
  await tmux?.kill();
});

// Every way a local attach runs: the node serving the terminal itself (the default on Linux: the
// lane thread reads the terminal and the PTY, on Bun's PTY, the default backend, and on bun-pty;
// a direct terminal on Bun's PTY where its reading is not handed over) and everything through the
// client and its socket (CODEWIRE_LANES=0, as for remote nodes).
for (const mode of ["lane", "direct", "bun-pty-lane", "socket"] as const) {
describe(`attach through tmux (${mode})`, () => {
  const env = () => (mode === "socket" ? { ...cw.env, CODEWIRE_LANES: "0" } : cw.env);
  // The modes that are not the default node's get a node of their own.
  const nodeEnv: Record<string, string> | undefined = mode === "direct" ? { CODEWIRE_PTY_LANES: "0" } : mode === "bun-pty-lane" ? { CODEWIRE_PTY: "bun-pty" } : undefined;
  let outer: CwHome;
  beforeAll(() => {
    if (!nodeEnv) return;
    outer = cw;
    cw = new CwHome(nodeEnv);
  });
  afterAll(async () => {
    if (!nodeEnv) return;
    await cw.cleanup();
    cw = outer;
  });
  /** Names are unique among running sessions: one set per mode. */
  const n = (name: string) => `${name}-${mode}`;

  test("type into a shell session, detach with Ctrl+B d, the session keeps running", async () => {
    const id = await cw.launch(["bash", "--norc", "--noprofile"], [n("shell1")]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach ${n("shell1")}`, env());
    await tmux.type("echo typed-$((40+2))");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("typed-42"), "command output");
    await tmux.keys("C-b", "d");
    const screen = await tmux.waitScreen((s) => s.includes("[exit 0]"), "attach to exit");
    expect(screen).toContain(`detached from session ${id} (${n("shell1")})`);
    const log = readFileSync(cw.path("node.log"), "utf8");
    if (mode === "lane" || mode === "bun-pty-lane") expect(log).toContain("lane thread started");
    expect(log.includes("attach serves terminals directly")).toBe(mode === "direct");
    expect((await cw.session(id)).status).toBe("running");
    expect(await cw.ok(["logs", String(id)])).toContain("typed-42");
  });

  test("after detaching, the user's own shell gets the very next keys, with echo and line editing back", async () => {
    await cw.launch(["bash", "--norc", "--noprofile"], [n("shell2")]);
    tmux = new Tmux();
    await tmux.start("bash --norc --noprofile", env());
    await tmux.type(`${CW} attach ${n("shell2")}`);
    await tmux.keys("Enter");
    await tmux.type("echo inner-$((6*7))");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("inner-42"), "the session's shell");
    await tmux.keys("C-b", "d");
    await tmux.waitScreen((s) => s.includes("detached from session"), "the detach");
    // Typed at once: nothing may be swallowed by a reader the attach left behind, and the
    // terminal must be out of raw mode (the outer shell echoes and runs the line).
    await tmux.type("echo outer-$((50+8))");
    await tmux.keys("Enter");
    const screen = await tmux.waitScreen((s) => s.includes("outer-58\n") || /^outer-58$/m.test(s), "the outer shell to run the line");
    expect(screen).toContain("echo outer-$((50+8))");
  });

  test("reattaching to vim shows its current screen, and resizing reaches the program", async () => {
    const file = cw.path(`notes-${mode}.txt`);
    const id = await cw.launch(["vim", "-u", "NONE", "-N", "-n", file], [n("editor")]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach ${n("editor")}`, env(), 100, 30);
    await tmux.waitScreen((s) => s.split("\n").filter((l) => l.startsWith("~")).length > 10, "vim to start");
    await tmux.keys("i");
    await tmux.type("first line written in vim");
    await tmux.keys("Escape");
    await tmux.waitScreen((s) => s.includes("first line written in vim"), "typed text");
    await tmux.keys("C-b", "d");
    await tmux.waitScreen((s) => s.includes("[exit 0]"), "detach");
    await tmux.kill();

    // While detached, change the buffer through `cw send`, then come back in a new terminal.
    await cw.ok(["send", n("editor"), "--no-newline", "osecond line while detached\x1b"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach ${n("editor")}`, env(), 100, 30);
    const screen = await tmux.waitScreen((s) => s.includes("second line while detached"), "vim screen repainted");
    const lines = screen.split("\n");
    expect(lines[0]).toBe("first line written in vim");
    expect(lines[1]).toBe("second line while detached");
    expect(lines[2]).toMatch(/^~/);

    await tmux.cmd("resize-window", "-t", tmux.target, "-x", "72", "-y", "20");
    // The new size travels to the program (SIGWINCH, cw attach, the node, the PTY): ask vim once it is there.
    await waitFor(async () => (await cw.session(id)).cols === 72, "the session's new size");
    await tmux.type(":set columns? lines?");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => /columns=72\s+lines=20/.test(s), "vim sees the new size");
    await tmux.type(":q!");
    await tmux.keys("Enter");
    const end = await tmux.waitScreen((s) => s.includes("[exit 0]"), "attach ends with the session");
    expect(end).toContain(`session ${id} (${n("editor")}) completed (0)`);
  });

  test("two clients see the same output; the kitty-encoded chord detaches one", async () => {
    const id = await cw.launch(["bash", "--norc", "--noprofile"], [n("shared")]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach ${n("shared")}`, env());
    await tmux.cmd("new-window", "-t", "t:", `env CODEWIRE_HOME=${cw.dir} ${mode === "socket" ? "CODEWIRE_LANES=0 " : ""}${CW} attach ${n("shared")}; echo "[exit $?]"; sleep 600`);
    await tmux.type("echo both-$((6*7))");
    await tmux.keys("Enter");
    await waitFor(async () => (await tmux.cmd("capture-pane", "-p", "-t", "t:0")).includes("both-42"), "window 0 output");
    await waitFor(async () => (await tmux.cmd("capture-pane", "-p", "-t", "t:1")).includes("both-42"), "window 1 output");
    expect((await cw.session(id)).attached_count).toBe(2);
    // Ctrl+B then d as the kitty keyboard protocol sends them, with a focus report in between.
    await tmux.cmd("send-keys", "-t", "t:1", "-l", "\x1b[98;5u\x1b[I\x1b[100u");
    await waitFor(async () => (await tmux.cmd("capture-pane", "-p", "-t", "t:1")).includes("[exit 0]"), "kitty detach");
    await waitFor(async () => (await cw.session(id)).attached_count === 1, "one client left");
    // The client that stayed still types and sees the echo.
    await tmux.cmd("select-window", "-t", "t:0");
    await tmux.type("echo still-$((7*6))");
    await tmux.keys("Enter");
    await waitFor(async () => (await tmux.cmd("capture-pane", "-p", "-t", "t:0")).includes("still-42"), "the remaining client");
  });
});
}

describe("attach ends cleanly when its terminal or process goes", () => {
  /** The pid of the `cw attach` running in the tmux pane. */
  async function attachPid(): Promise<number> {
    const pane = Number((await tmux.cmd("display", "-p", "-t", tmux.target, "#{pane_pid}")).trim());
    return waitFor(() => {
      const p = Bun.spawnSync(["pgrep", "-P", String(pane), "-f", "attach"]);
      const pid = Number(p.stdout.toString().trim().split("\n")[0]);
      return pid > 0 ? pid : undefined;
    }, "the attach process");
  }

  test("SIGTERM detaches: the session keeps running, the terminal is given back", async () => {
    const id = await cw.launch(["bash", "--norc", "--noprofile"], ["sig1"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach sig1`, cw.env);
    await waitFor(async () => (await cw.session(id)).attached_count === 1, "the attach");
    process.kill(await attachPid(), "SIGTERM");
    await tmux.waitScreen((s) => /\[exit \d+\]/.test(s), "attach to exit");
    await waitFor(async () => (await cw.session(id)).attached_count === 0, "the node to count the client gone");
    expect((await cw.session(id)).status).toBe("running");
  });

  test("the terminal closing ends the attach; the session keeps running", async () => {
    const id = await cw.launch(["bash", "--norc", "--noprofile"], ["hup1"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach hup1`, cw.env);
    await waitFor(async () => (await cw.session(id)).attached_count === 1, "the attach");
    const pid = await attachPid();
    await tmux.kill();
    await waitFor(() => !running(pid), "the attach process to end");
    await waitFor(async () => (await cw.session(id)).attached_count === 0, "the node to count the client gone");
    expect((await cw.session(id)).status).toBe("running");
  });

  test("a session that ends while its terminal is stalled mid-flood: the attach's last words come after the output, never under it", async () => {
    const id = await cw.launch(["sh", "-c", "read x; seq 1 400000; exit 3"], ["flood1"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach flood1`, cw.env);
    await waitFor(async () => (await cw.session(id)).attached_count === 1, "the attach");
    // The terminal stops reading: the tmux server, which drains the pane, is stopped.
    const server = Number((await tmux.cmd("display", "-p", "#{pid}")).trim());
    process.kill(server, "SIGSTOP");
    try {
      await cw.ok(["send", "flood1", "go"]);
      await waitFor(async () => (await cw.session(id)).status === "completed" || undefined, "the flood to end", 30_000);
    } finally {
      process.kill(server, "SIGCONT");
    }
    const screen = await tmux.waitScreen((s) => /\[exit \d+\]/.test(s), "attach to exit");
    const lines = screen.split("\n").filter((l) => l.trim() !== "");
    const last = lines.findIndex((l) => l.includes("flood1"));
    expect(last).toBeGreaterThanOrEqual(0);
    // Nothing of the flood after the attach's own message.
    expect(lines.slice(last).filter((l) => /^\d+$/.test(l.trim()))).toEqual([]);
  });

  test("attaching to a session on pipes: a note that typing is blind, Enter ends a line, Ctrl+D ends the input", async () => {
    const id = await cw.launch(["sh", "-c", 'while read -r l || [ -n "$l" ]; do echo "line:[$l]"; done; echo "input ended"; sleep 30'], ["pipes1", "--no-pty"]);
    expect((await cw.session(id)).terminal).toBe(false);
    tmux = new Tmux();
    await tmux.start(`${CW} attach pipes1`, cw.env);
    await tmux.waitScreen((s) => s.includes("runs on pipes, not a terminal"), "the note");
    for (const line of ["typed blind", "second"]) {
      await tmux.type(line);
      await tmux.keys("Enter");
    }
    // Each output line starts at the left edge: the bare LF is a new line on the user's terminal.
    await tmux.waitScreen((s) => /^line:\[typed blind\]$/m.test(s) && /^line:\[second\]$/m.test(s), "the program to read both lines");
    // The program saw newlines, not carriage returns, and its log holds exactly what it wrote.
    expect(await cw.ok(["logs", "pipes1"])).toBe("line:[typed blind]\nline:[second]\n");
    // Ctrl+D closes the program's stdin, as end of file on a terminal would: the half line typed
    // before it is still read, and what is typed after it never arrives.
    await tmux.type("last");
    await tmux.keys("C-d");
    await tmux.type("after");
    await tmux.keys("Enter");
    await tmux.waitScreen((s) => s.includes("input ended"), "the program to see the end of its input");
    expect(await cw.ok(["logs", "pipes1"])).toBe("line:[typed blind]\nline:[second]\nline:[last]\ninput ended\n");
    expect((await cw.session(id)).status).toBe("running");
    await tmux.keys("C-b", "d");
    await tmux.waitScreen((s) => s.includes("[exit 0]"), "attach to exit");
    await cw.ok(["kill", String(id)]);
  });
});

describe("terminal queries", () => {
  test("while nobody is attached the node answers cursor-position and device-attribute queries", async () => {
    const id = await cw.launch([
      "bash",
      "-c",
      "stty raw -echo; printf 'abc\\033[6n'; IFS= read -r -s -d R -t 5 pos; printf '\\033[c'; IFS= read -r -s -d c -t 5 da; stty sane; echo; echo \"pos=${pos#*[} da=${da#*[}\"",
    ]);
    await cw.waitStatus(id, "completed");
    const out = await cw.ok(["logs", String(id), "--plain"]);
    expect(out).toMatch(/pos=1;4 da=\?1;2/);
  });
});

describe("screen", () => {
  test("cw screen renders a full-screen program's current screen as text", async () => {
    const id = await cw.launch(["vim", "-u", "NONE", "-N", "-n"], ["scr"]);
    await cw.ok(["send", "scr", "--no-newline", "ihello screen\x1bo  indented line\x1b"]);
    const screen = await waitFor(async () => {
      const s = JSON.parse(await cw.ok(["screen", "scr", "--json"]));
      // Vim moves the cursor back onto the last character once it has handled the Escape.
      return s.lines[1] === "  indented line" && s.cursor.x === 14 ? s : undefined;
    }, "vim's screen with the cursor on the last character");
    expect(screen.alt).toBe(true);
    expect(screen.lines[0]).toBe("hello screen");
    expect(screen.lines[2]).toMatch(/^~/);
    expect(screen.cursor.y).toBe(1);
    expect(await cw.ok(["screen", String(id)])).toStartWith("hello screen\n  indented line\n~");
    await cw.ok(["kill", String(id)]);
    const gone = await cw.run(["screen", String(id)]);
    expect(gone.stderr).toContain("screen is gone");
  });
});

describe("the node stopping", () => {
  test("an attached client hears that the node stopped, with its session's end, and exits 0", async () => {
    const id = await cw.launch(["bash", "--norc", "--noprofile"], ["stopping"]);
    tmux = new Tmux();
    await tmux.start(`${CW} attach stopping`, cw.env);
    await waitFor(async () => (await cw.session(id)).attached_count === 1, "the attach");
    expect(await cw.ok(["stop"])).toContain("node stopped");
    const screen = await tmux.waitScreen((s) => /\[exit \d+\]/.test(s), "attach to end");
    expect(screen).toContain(`session ${id} (stopping) killed (the node stopped)`);
    expect(screen).toContain("[exit 0]");
  });
});
