/** The command line as users meet it: help, version, errors, watch. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../src/cli/main";
import { capture, CW, CwHome, waitFor } from "./helpers";

let cw: CwHome;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});

describe("help and errors", () => {
  test("every command has --help with usage, options and examples, without colour off a TTY", async () => {
    const root = await cw.ok(["--help"]);
    for (const name of Object.keys(COMMANDS)) {
      expect(root).toContain(name);
      const help = await cw.ok([name, "--help"]);
      expect(help).toContain("USAGE");
      expect(help).toContain("EXAMPLES");
      expect(help).toContain(`cw ${name}`);
      expect(help).not.toContain("\x1b[");
    }
  });

  test("--version prints the stamped version", async () => {
    expect(await cw.ok(["--version"])).toMatch(/^cw \d+\.\d+\.\d+/);
  });

  test("unknown commands and options say what to do next", async () => {
    const a = await cw.run(["lanch"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("cw --help");
    const b = await cw.run(["list", "--colour"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("unknown option --colour");
    const c = await cw.run(["attach", "1"]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("needs a terminal");
    // Another node by name, without a relay: says how to get one.
    for (const args of [["list", "dev-1"], ["logs", "dev-1:3"]]) {
      const d = await cw.run(args);
      expect(d.code).toBe(1);
      expect(d.stderr).toContain("this machine has no relay");
      expect(d.stderr).toContain("cw setup");
    }
  });
});

describe("argument parsing", () => {
  test("values, aliases, --no- flags, enums and missing values", async () => {
    const id = await cw.launch(["sleep", "30"], ["--name", "args-a", "-t", "x", "--tag=y"]);
    const s = await cw.session(id);
    expect(s.name).toBe("args-a");
    expect(s.tags).toEqual(["x", "y"]);
    expect(JSON.parse(await cw.ok(["list", "--tag=x", "--json=true"])).map((x: { id: number }) => x.id)).toEqual([id]);
    const missing = await cw.run(["logs", String(id), "--tail"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--tail needs a value");
    const noValue = await cw.run(["list", "--json=maybe"]);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain("--json takes no value");
    const noPositional = await cw.run(["send"]);
    expect(noPositional.code).toBe(2);
    expect(noPositional.stderr).toContain("missing <");
    // --no-newline: the text arrives without Enter, so `read` is still waiting for the line.
    const reader = await cw.launch(["bash", "-c", "read -r line; echo got=[$line]"]);
    await cw.ok(["send", String(reader), "--no-newline", "abc"]);
    await cw.ok(["send", String(reader), "def"]);
    await cw.waitStatus(reader, "completed");
    expect(await cw.ok(["logs", String(reader)])).toContain("got=[abcdef]");
    await cw.ok(["kill", String(id)]);
  });

  test("output into a pipe that closes early (`cw logs | head`) ends quietly with status 0", async () => {
    const id = await cw.launch(["sh", "-c", "seq 1 200000"]);
    await cw.waitStatus(id, "completed");
    const p = Bun.spawn(["bash", "-c", `${CW} logs ${id} | head -2; echo "status=\${PIPESTATUS[0]}" >&2`], { env: cw.env, stdout: "pipe", stderr: "pipe" });
    const [out, errText] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(out.replace(/\r/g, "")).toBe("1\n2\n");
    expect(errText.trim()).toBe("status=0");
  });

  test("a .env file in the working directory does not leak into cw or its sessions", async () => {
    const dir = cw.path("project-with-dotenv");
    mkdirSync(dir);
    writeFileSync(join(dir, ".env"), "CW_TEST_DOTENV_LEAK=leaked\n");
    const home = new CwHome();
    try {
      const out = await home.ok(["launch", "--", "sh", "-c", "echo dotenv=[${CW_TEST_DOTENV_LEAK:-none}]"], { cwd: dir });
      const id = Number(out.trim());
      await home.waitStatus(id, "completed");
      expect(await home.ok(["logs", String(id)])).toContain("dotenv=[none]");
    } finally {
      await home.cleanup();
    }
  });
});

describe("send --file and watch", () => {
  test("send --file types a file's content", async () => {
    const f = cw.path("input.txt");
    writeFileSync(f, "from-a-file\n");
    const id = await cw.launch(["bash", "-c", "read x; echo got=$x"]);
    await cw.ok(["send", String(id), "--file", f]);
    await cw.waitStatus(id, "completed");
    expect(await cw.ok(["logs", String(id)])).toContain("got=from-a-file");
  });

  test("watch --tail starts from the last lines and ends with the session", async () => {
    const id = await cw.launch(["bash", "-c", "seq 1 100; read x; echo done-$x"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("100"), "output");
    const w = cw.spawn(["watch", String(id), "--tail", "3"]);
    const out = capture(w.stdout);
    await waitFor(() => out.text.includes("100"), "tail in watch");
    await cw.ok(["send", String(id), "now"]);
    expect(await w.exited).toBe(0);
    await out.done;
    const lines = out.text.trim().split(/\r?\n/);
    expect(lines.slice(0, 3)).toEqual(["98", "99", "100"]);
    expect(out.text).toContain("done-now");
  });

  test("watch --tag labels each line with its session; --timeout ends it", async () => {
    const a = await cw.launch(["bash", "-c", "echo alpha-line; sleep 30"], ["wa", "--tag", "wt"]);
    const b = await cw.launch(["bash", "-c", "echo beta-line; sleep 30"], ["wb", "--tag", "wt"]);
    await waitFor(async () => (await cw.ok(["logs", String(b)])).includes("beta-line") && (await cw.ok(["logs", String(a)])).includes("alpha-line"), "output");
    const r = await cw.run(["watch", "--tag", "wt", "--timeout", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[wa] alpha-line");
    expect(r.stdout).toContain("[wb] beta-line");
    expect(r.stderr).toContain("timed out");
    await cw.ok(["kill", "--tag", "wt"]);
  });
});
