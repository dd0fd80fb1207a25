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
    // A timeout is exit 124, as for cw wait and cw request.
    expect(r.code).toBe(124);
    expect(r.stdout).toContain("[wa] alpha-line");
    expect(r.stdout).toContain("[wb] beta-line");
    expect(r.stderr).toContain("timed out");
    await cw.ok(["kill", "--tag", "wt"]);
  });
});

describe("free text after --", () => {
  test("send, msg, request, reply and broadcast take text that starts with - after --", async () => {
    const reader = await cw.launch(["bash", "-c", "read -r line; echo got=[$line]"]);
    // Without --, text that looks like an option is refused, and the hint says how to send it.
    const bare = await cw.run(["send", String(reader), "-end"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("unknown option -end");
    expect(bare.stderr).toContain(`-- "-end"`);
    await cw.ok(["send", String(reader), "--", "-end"]);
    await cw.waitStatus(reader, "completed");
    expect(await cw.ok(["logs", String(reader)])).toContain("got=[-end]");
    // Options still work before --, and several words after -- are one argument too many.
    const raw = await cw.launch(["bash", "-c", "read -r line; echo raw=[$line]"]);
    await cw.ok(["send", String(raw), "--no-newline", "--", "-a"]);
    const extra = await cw.run(["send", String(raw), "--", "-b", "--no-newline"]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("quote");
    await cw.ok(["send", String(raw), "--", "-c"]);
    await cw.waitStatus(raw, "completed");
    expect(await cw.ok(["logs", String(raw)])).toContain("raw=[-a-c]");
    // Giving the input twice is still an error.
    const twice = await cw.run(["send", String(raw), "x", "--", "-y"]);
    expect(twice.code).toBe(2);

    const box = await cw.launch(["sleep", "30"], ["dash-box", "--tag", "dash-t"]);
    await cw.ok(["msg", "dash-box", "--", "-x"]);
    await cw.ok(["msg", "dash-box", "--", "--delivery"]);
    await cw.ok(["broadcast", "--tag", "dash-t", "--", "-z"]);
    const messages = JSON.parse(await cw.ok(["inbox", "dash-box", "--json"])).messages.map((m: { body: string }) => m.body);
    expect(messages).toEqual(["-x", "--delivery", "-z"]);

    // request blocks until the reply, which is itself text after --.
    const req = cw.run(["request", "dash-box", "--timeout", "20", "--json", "--", "-q"]);
    const id = await waitFor(async () => JSON.parse(await cw.ok(["inbox", "dash-box", "--unread", "--json"])).messages.find((m: { kind: string; body: string }) => m.kind === "request" && m.body === "-q")?.id as string | undefined, "the request");
    await cw.ok(["reply", id, "-f", "dash-box", "--", "-r"]);
    const r = await req;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).reply.body).toBe("-r");
    await cw.ok(["kill", String(box)]);
  });
});

describe("session names", () => {
  test("an all-digit name is refused at launch (numbers are ids), and says what to do", async () => {
    const r = await cw.run(["launch", "123", "--", "sleep", "20"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("invalid session name");
    expect(r.stderr).toContain("id");
    expect(r.stderr).toMatch(/letter or hyphen/);
    const n = await cw.run(["launch", "--name", "0042", "--", "sleep", "20"]);
    expect(n.code).toBe(2);
    expect((await cw.list()).some((s) => s.name === "123" || s.name === "0042")).toBe(false);
    // A digit and a letter, or a hyphen, is a name.
    const a = await cw.launch(["true"], ["123a"]);
    const b = await cw.launch(["true"], ["1-2"]);
    expect((await cw.session(a)).name).toBe("123a");
    expect((await cw.session(b)).name).toBe("1-2");
  });

  test("a positional name and a different --name are a usage error; the same name is fine", async () => {
    const r = await cw.run(["launch", "name-a", "--name", "name-b", "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("name-a");
    expect(r.stderr).toContain("name-b");
    expect((await cw.list()).some((s) => s.name === "name-a" || s.name === "name-b")).toBe(false);
    const same = await cw.launch(["true"], ["name-c", "--name", "name-c"]);
    expect((await cw.session(same)).name).toBe("name-c");
  });
});

describe("timeouts", () => {
  test("watch of one session exits 124 at --timeout, also with --json", async () => {
    const id = await cw.launch(["bash", "-c", "echo watched-line; sleep 30"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("watched-line"), "output");
    const r = await cw.run(["watch", String(id), "--timeout", "0.5"]);
    expect(r.code).toBe(124);
    expect(r.stdout).toContain("watched-line");
    expect(r.stderr).toContain("watch timed out");
    const j = await cw.run(["watch", String(id), "--timeout", "0.5", "--json"]);
    expect(j.code).toBe(124);
    expect(j.stdout).toContain('"end":"timeout"');
    await cw.ok(["kill", String(id)]);
    // A watch that ends with its session is still a success.
    const short = await cw.launch(["bash", "-c", "echo ready; read x; echo bye-$x"]);
    const w = cw.spawn(["watch", String(short), "--timeout", "30"]);
    const out = capture(w.stdout);
    await waitFor(() => out.text.includes("ready"), "the watch to show output");
    await cw.ok(["send", String(short), "now"]);
    expect(await w.exited).toBe(0);
    await out.done;
    expect(out.text).toContain("bye-now");
  });
});
