/**
 * The text of a session, as every text view gives it (cw logs --plain/--json, cw status, cw
 * watch --json, the output summary, the MCP tools), must be what a person reads on the
 * terminal. The oracle is tmux: the same bytes printed in a tmux pane of the session's size,
 * read back with capture-pane. The smallest reproduction of Claude Code's output: lines ended by
 * \r\r\n, cursor moves between words (ESC[nG, ESC[nC), a spinner redrawn with \r, colours, and a
 * line longer than the terminal is wide.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CW, CwHome, capture, shq, Tmux, waitFor } from "./helpers";

const LONG = "0123456789".repeat(15);
/** What the program prints, and what a terminal shows of it. */
const SCRIPT = [
  String.raw`printf 'alpha\r\r\nbe\033[5Gta\r\r\ngam\033[2Cma\r\n'`,
  String.raw`printf '\033[32mgreen\033[0m \033[1;4mbold\033[0m\r\r\n'`,
  String.raw`for i in 1 2 3; do printf '\rspinner %s' $i; done; printf '\rfinished  \r\n'`,
  `printf '%s\\r\\n' ${LONG}`,
  "echo READY",
].join("; ");
const SHOWN = ["alpha", "be  ta", "gam  ma", "green bold", "finished", LONG, "READY"];
const COLS = 120;
const ROWS = 40;

let cw: CwHome;
let client: Client;

beforeAll(async () => {
  cw = new CwHome();
  client = new Client({ name: "cw-text-test", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: CW, args: ["mcp-server"], env: cw.env, cwd: cw.dir, stderr: "pipe" }));
});
afterAll(async () => {
  await client?.close();
  await cw.cleanup();
});

async function tool(name: string, args: Record<string, unknown>): Promise<{ text: string; data: any }> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
  if (r.isError) throw new Error(`${name} failed: ${text}`);
  return { text, data: r.structuredContent };
}

const lines = (s: string) => s.replace(/\n$/, "").split("\n");

/** Every text view of session `id` shows `shown` (all of its output). */
async function expectTextViews(id: number, shown: string[]) {
  expect(lines(await cw.ok(["logs", String(id), "--plain"]))).toEqual(shown);
  expect(lines(await cw.ok(["logs", String(id), "--plain", "--tail", "3"]))).toEqual(shown.slice(-3));
  expect(JSON.parse(await cw.ok(["logs", String(id), "--json"])).output).toBe(`${shown.join("\n")}\n`);
  const status = JSON.parse(await cw.ok(["status", String(id), "--json", "--lines", "4"]));
  expect(status.recent_output).toBe(shown.slice(-4).join("\n"));
  const human = await cw.ok(["status", String(id), "--lines", "2"]);
  expect(human).toContain(`Recent output:\n${shown.slice(-2).join("\n")}\n`);

  const read = await tool("codewire_read_session_output", { session: id, tail_lines: 100 });
  expect(lines(read.data.output)).toEqual(shown);
  expect(read.text).not.toContain("(no output yet)");
  const st = await tool("codewire_get_session_status", { session: id, recent_lines: 3 });
  expect(st.data.recent_output).toBe(shown.slice(-3).join("\n"));
  const w = await tool("codewire_watch_session", { session: id, until: "READY", tail_lines: 50, timeout_s: 10 });
  expect(lines(w.data.output)).toEqual(shown);
}

describe("session text", () => {
  test("what tmux shows of the same bytes: logs --plain, status, watch --json, summary and MCP, running and ended", async () => {
    // The oracle: the program itself in a tmux pane of the session's size.
    const tmux = new Tmux();
    try {
      await tmux.start(`bash -c ${shq(`${SCRIPT}; read x`)}`, cw.env, COLS, ROWS);
      const screen = await tmux.waitScreen((s) => s.includes("READY"), "the script in tmux");
      const joined = await tmux.cmd("capture-pane", "-p", "-J", "-t", "t");
      expect(lines(joined.trimEnd()).map((l) => l.trimEnd())).toEqual(SHOWN);
      expect(screen).toContain("be  ta");
    } finally {
      await tmux.kill();
    }

    const sub = cw.spawn(["subscribe", "--event", "session.output_summary", "--json"]);
    const events = capture(sub.stdout);
    try {
      const id = await cw.launch(["bash", "-c", `${SCRIPT}; read x`]);
      expect(await cw.session(id)).toMatchObject({ cols: COLS, rows: ROWS });
      await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("READY"), "the output");
      await expectTextViews(id, SHOWN);
      // watch --json: JSON lines whose output is whole lines of text.
      const wj = await cw.run(["watch", String(id), "--json", "--timeout", "1"]);
      const outputs = lines(wj.stdout).map((l) => JSON.parse(l)).filter((m) => m.output !== undefined).map((m) => m.output).join("");
      expect(lines(outputs)).toEqual(SHOWN);
      // The summary's last line is the terminal's, whole.
      const summary = await waitFor(() => events.text.split("\n").find((l) => l.includes("output_summary")), "an output summary", 15_000);
      expect(JSON.parse(summary).data.last_line).toBe("READY");

      // Ended: no live screen any more; the log is replayed through a terminal of its size. (The
      // terminal echoed what was typed, as a person would have seen it.)
      await cw.ok(["send", String(id), "bye"]);
      await cw.waitStatus(id, "completed");
      await expectTextViews(id, [...SHOWN, "bye"]);
    } finally {
      sub.kill();
    }
  }, 60_000);

  test("a log longer than the scrollback the node keeps, running and ended", async () => {
    // 3000 lines (the live model keeps 1000 lines of scrollback), each coloured and ended \r\r\n.
    const id = await cw.launch(["bash", "-c", String.raw`for i in $(seq 1 3000); do printf '\033[33mline\033[0m %s\r\r\n' $i; done; read x`]);
    const all = Array.from({ length: 3000 }, (_, i) => `line ${i + 1}`);
    await waitFor(async () => (await cw.ok(["logs", String(id), "--plain", "--tail", "1"])) === "line 3000\n", "the output");
    const check = async (all: string[]) => {
      expect(lines(await cw.ok(["logs", String(id), "--plain"]))).toEqual(all);
      expect(lines(await cw.ok(["logs", String(id), "--plain", "--tail", "2500"]))).toEqual(all.slice(-2500));
      expect(JSON.parse(await cw.ok(["status", String(id), "--json", "--lines", "1000"])).recent_output).toBe(all.slice(-1000).join("\n"));
      const read = await tool("codewire_read_session_output", { session: id, tail_lines: 2000, max_bytes: 256 * 1024 });
      expect(lines(read.data.output)).toEqual(all.slice(-2000));
      expect(read.data.truncated).toBe(true);
    };
    await check(all);
    await cw.ok(["send", String(id), "bye"]);
    await cw.waitStatus(id, "completed");
    await check([...all, "bye"]);
  }, 60_000);

  test("a log rotated past its cap: the text starts at the first whole line kept", async () => {
    const small = new CwHome({ CODEWIRE_LOG_MAX_MIB: "0.25" });
    try {
      const id = await small.launch(["bash", "-c", String.raw`for i in $(seq 1 40000); do printf 'row %s\r\r\n' $i; done`]);
      await small.waitStatus(id, "completed", 30_000);
      const text = lines(await small.ok(["logs", String(id), "--plain"]));
      expect(text.at(-1)).toBe("row 40000");
      expect(text.length).toBeGreaterThan(1000);
      // Every line whole and in order: no fragment of a line cut by the rotation.
      const first = Number(text[0]!.slice(4));
      expect(text).toEqual(Array.from({ length: text.length }, (_, i) => `row ${first + i}`));
    } finally {
      await small.cleanup();
    }
  }, 60_000);

  test("watch --json while a line is redrawn: whole lines, each shown once, changes at most about once a second", async () => {
    const id = await cw.launch(["bash", "-c", String.raw`printf 'static line\r\n'; for i in $(seq 1 15); do printf '\rprogress %s' $i; sleep 0.1; done; printf '\rdone       \r\n'`]);
    const w = await cw.run(["watch", String(id), "--json", "--timeout", "20"]);
    expect(w.code).toBe(0);
    const shown = lines(lines(w.stdout).map((l) => JSON.parse(l)).filter((m) => m.output !== undefined).map((m) => m.output).join(""));
    expect(shown[0]).toBe("static line");
    expect(shown.at(-1)).toBe("done");
    for (const l of shown) expect(l).toMatch(/^(static line|progress \d+|done)$/);
    expect(new Set(shown).size).toBe(shown.length);
    // 1.5 s of redraws: the screen is read when output pauses or once a second, not per redraw.
    expect(shown.length).toBeLessThanOrEqual(6);
  });

  test("a full-screen program: its screen while it shows, the shell's lines once it has left", async () => {
    // Like Codex's: rows below cleared by writing spaces, the cursor parked on the last row.
    const id = await cw.launch(["bash", "-c", String.raw`printf 'shell line\r\n\033[?1049h\033[HTUI top\033[3;1HTUI bottom\033[4;1H \033[5;1H   \033[40;1H '; read x; printf '\033[?1049lafter\r\n'`]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("TUI bottom"), "the full-screen output");
    expect(lines(await cw.ok(["logs", String(id), "--plain"]))).toEqual(["shell line", "TUI top", "", "TUI bottom"]);
    expect(JSON.parse(await cw.ok(["status", String(id), "--json", "--lines", "5"])).recent_output).toBe("TUI top\n\nTUI bottom");
    await cw.ok(["send", String(id), "bye"]);
    await cw.waitStatus(id, "completed");
    expect(lines(await cw.ok(["logs", String(id), "--plain"]))).toEqual(["shell line", "after"]);
    expect(JSON.parse(await cw.ok(["status", String(id), "--json"])).recent_output).toBe("shell line\nafter");
  });

  test("a session on pipes: a bare newline ends a line", async () => {
    const script = `${cw.dir}/pipes.sh`;
    writeFileSync(script, "printf 'one\\ntwo\\n'; printf 'three\\n'\n");
    const id = await cw.launch(["bash", script], ["--no-pty"]);
    await cw.waitStatus(id, "completed");
    expect(lines(await cw.ok(["logs", String(id), "--plain"]))).toEqual(["one", "two", "three"]);
    expect(JSON.parse(await cw.ok(["status", String(id), "--json"])).recent_output).toBe("one\ntwo\nthree");
  });
});
