/**
 * What a careful user hits when trying every command of the seed with the inputs people really
 * give (issue 15): programs that cannot start, values the schemas refuse, extra words, exit
 * codes by the README's table, Ctrl+C, a node that stops under a stream, and --json shapes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { controlFrame } from "../src/protocol/frame";
import { PROTOCOL_VERSION } from "../src/protocol/version";
import { capture, CW, CwHome, Tmux, waitFor } from "./helpers";

let cw: CwHome;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});

describe("a program that cannot start", () => {
  test("not executable, a directory, an empty word: rc 1, the reason, no session", async () => {
    const script = cw.path("not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    chmodSync(script, 0o644);
    mkdirSync(cw.path("a-dir"));
    const cases: [string, RegExp][] = [
      ["./not-executable.sh", /permission denied: \.\/not-executable\.sh is not executable/],
      ["./a-dir", /\.\/a-dir is a directory/],
      ["", /the command is empty/],
      ["no-such-program-xyz", /not found on the PATH/],
    ];
    for (const [program, reason] of cases) {
      const r = await cw.run(["launch", "--", program]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/could not start/);
      expect(r.stderr).toMatch(reason);
    }
    expect(await cw.list()).toEqual([]);
    // A program found on the PATH, and one by its path, still start.
    chmodSync(script, 0o755);
    const ok = await cw.launch(["./not-executable.sh"], ["--dir", cw.dir]);
    await cw.waitStatus(ok, "completed");
    expect(await cw.ok(["logs", String(ok)])).toContain("hi");
  });

  test("--dir of a file says it is not a directory; a missing one that it does not exist; both rc 1", async () => {
    const file = cw.path("a-file");
    writeFileSync(file, "x");
    const notDir = await cw.run(["launch", "--dir", file, "--", "true"]);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toContain(`${file} is not a directory`);
    const missing = await cw.run(["launch", "--dir", cw.path("nowhere"), "--", "true"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("does not exist");
  });
});

describe("values the protocol refuses, in the user's words", () => {
  test("each names the flag or argument, without schema internals, rc 2", async () => {
    const cases: [string[], string][] = [
      [["logs", "0"], "<session>: session ids start at 1"],
      [["logs", "99999999999999999999"], "<session>: no session has an id as large as 99999999999999999999"],
      [["msg", "coder", ""], "<body>: the message is empty"],
      [["launch", "--tag", "", "--", "true"], "--tag: a tag is 1-64 characters without spaces or commas"],
      [["launch", "--tag", "a b", "--", "true"], "--tag: a tag is 1-64 characters without spaces or commas"],
      [["kv", "set", "", "v"], "<key>: the key is empty"],
    ];
    for (const [args, said] of cases) {
      const r = await cw.run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(said);
      expect(r.stderr).not.toMatch(/invalid \w+:|Too small|Too big|expected/);
      expect(r.stderr).toContain("hint:");
    }
  });

  test("extra words are an error for commands that take fewer", async () => {
    const id = await cw.launch(["sleep", "30"]);
    const cases = [
      ["listen", "x"],
      ["status", String(id), "extra"],
      ["logs", String(id), "extra"],
      ["screen", String(id), "extra"],
      ["watch", String(id), "extra"],
      ["inbox", String(id), "extra"],
      ["nodes", "extra"],
      ["kv", "get", "key", "extra"],
      ["kv", "delete", "key", "extra"],
      ["stop", "now"],
      ["start", "now"],
    ];
    for (const args of cases) {
      const r = await cw.run(args, { timeoutMs: 10_000 });
      expect(`${args.join(" ")} → ${r.code}`).toBe(`${args.join(" ")} → 2`);
      expect(r.stderr).toContain("too many arguments");
    }
    // The node did not stop for `cw stop now`.
    expect((await cw.session(id)).status).toBe("running");
    // kill and wait take several sessions.
    const other = await cw.launch(["sleep", "30"]);
    expect(await cw.ok(["kill", String(id), String(other)])).toContain("killed");
  });
});

describe("exit codes by the README's table", () => {
  test("replying to an answered request is an error (1), not bad usage", async () => {
    await cw.launch(["sleep", "30"], ["ec-target"]);
    const req = cw.run(["request", "ec-target", "ping?", "--timeout", "20", "--json"]);
    const id = await waitFor(async () => JSON.parse(await cw.ok(["inbox", "ec-target", "--json", "--peek"])).messages.find((m: any) => m.kind === "request")?.id as string | undefined, "the request");
    await cw.ok(["reply", id, "pong"]);
    expect((await req).code).toBe(0);
    const again = await cw.run(["reply", id, "twice"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already answered");
  });

  test("a --file that cannot be read (send, kv set) is an error (1) with the reason, not bad usage", async () => {
    const id = await cw.launch(["sleep", "30"]);
    for (const args of [["send", String(id), "--file", cw.path("no-such-file")], ["kv", "set", "k", "--file", cw.path("no-such-file")]]) {
      const r = await cw.run(args);
      expect(`${args[0]} → ${r.code}`).toBe(`${args[0]} → 1`);
      expect(r.stderr).toContain("no such file");
    }
  });
});

describe("a request given up", () => {
  test("a request given up with Ctrl+C is cancelled, and a late reply is refused", async () => {
    await cw.launch(["sleep", "30"], ["cancel-target"]);
    const p = cw.spawn(["request", "cancel-target", "anyone?", "--timeout", "60"]);
    const id = await waitFor(async () => JSON.parse(await cw.ok(["inbox", "cancel-target", "--json", "--peek"])).messages.find((m: any) => m.kind === "request")?.id as string | undefined, "the request");
    p.kill("SIGINT");
    await p.exited;
    const status = await waitFor(async () => {
      const m = JSON.parse(await cw.ok(["inbox", "cancel-target", "--json", "--peek"])).messages.find((x: any) => x.id === id);
      return m?.status === "cancelled" ? m.status : undefined;
    }, "the request to be cancelled");
    expect(status).toBe("cancelled");
    const late = await cw.run(["reply", id, "too late"]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain("cancelled");
  });
});

describe("Ctrl+C and a node that stops", () => {
  test("watch, logs -f, subscribe and listen end with 130 on Ctrl+C", async () => {
    const id = await cw.launch(["bash", "-c", "echo started; sleep 60"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("started"), "output");
    const cases: [string[], RegExp | string][] = [
      [["watch", String(id)], "started"],
      [["logs", "-f", String(id)], "started"],
      [["subscribe"], "subscribed"],
      [["listen"], "listening"],
    ];
    for (const [args, ready] of cases) {
      const p = cw.spawn(args);
      const out = capture(p.stdout as ReadableStream<Uint8Array>);
      const errs = capture(p.stderr as ReadableStream<Uint8Array>);
      await waitFor(() => (typeof ready === "string" ? (out.text + errs.text).includes(ready) : ready.test(out.text)), `${args[0]} to start`);
      p.kill("SIGINT");
      expect(`${args.join(" ")} → ${await p.exited}`).toBe(`${args.join(" ")} → 130`);
    }
    await cw.ok(["kill", String(id)]);
  });

  test("subscribe and listen say that the node stopped, and exit 1", async () => {
    const home = new CwHome();
    try {
      await home.ok(["start"]);
      const sub = home.spawn(["subscribe"]);
      const lis = home.spawn(["listen"]);
      const subErr = capture(sub.stderr as ReadableStream<Uint8Array>);
      const lisErr = capture(lis.stderr as ReadableStream<Uint8Array>);
      await waitFor(() => subErr.text.includes("subscribed") && lisErr.text.includes("listening"), "both streams");
      await home.ok(["stop"]);
      expect(await sub.exited).toBe(1);
      expect(await lis.exited).toBe(1);
      await subErr.done;
      await lisErr.done;
      expect(subErr.text).toContain("the connection to the node ended");
      expect(lisErr.text).toContain("the connection to the node ended");
    } finally {
      await home.cleanup();
    }
  });
});

describe("output", () => {
  test("cw list in an 80-column terminal: every row fits (COMMAND cut with …); piped, nothing is cut", async () => {
    const long = `echo ${"a-long-argument-".repeat(8)}; sleep 60`;
    await cw.launch(["bash", "-c", long], ["--tag", "wide-one"]);
    const t = new Tmux();
    try {
      await t.start(`${CW} list`, cw.env, 80, 24);
      const screen = await t.waitScreen((s) => s.includes("[exit 0]"), "cw list in the pane");
      // -J joins what the terminal wrapped: a row wider than the pane would come back longer.
      const rows = (await t.cmd("capture-pane", "-p", "-J", "-t", "t")).split("\n").filter((l) => l.includes("wide-one") || l.startsWith("ID"));
      expect(rows.length).toBe(2);
      for (const r of rows) expect(r.trimEnd().length).toBeLessThanOrEqual(80);
      expect(screen).toContain("…");
    } finally {
      await t.kill();
    }
    expect(await cw.ok(["list"])).toContain(long);
  });

  test("list --json and status --json carry every documented field, null when empty", async () => {
    const id = await cw.launch(["true"]);
    await cw.waitStatus(id, "completed");
    const fields = ["id", "name", "prompt", "command", "working_dir", "tags", "status", "exit_code", "pid", "created_at", "completed_at", "duration_ms", "output_bytes", "last_output_at", "attached_count", "cols", "rows", "terminal", "orphan_pid", "survivors"];
    const s = (await cw.list()).find((x) => x.id === id)!;
    expect(Object.keys(s).slice(0, fields.length)).toEqual(fields);
    expect(s.name).toBeNull();
    const st = JSON.parse(await cw.ok(["status", String(id), "--json"]));
    expect(Object.keys(st).slice(0, fields.length)).toEqual(fields);
    expect(st.name).toBeNull();
  });

  test("watch --json: every line has one shape, the last with end set", async () => {
    const id = await cw.launch(["bash", "-c", "echo line-one; sleep 0.2; echo line-two"]);
    const r = await cw.run(["watch", String(id), "--json", "--timeout", "20"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const keys = ["session_id", "session_name", "output", "status", "end"];
    for (const l of lines) expect(Object.keys(l)).toEqual(keys);
    expect(lines.map((l) => l.output ?? "").join("")).toContain("line-two");
    expect(lines.at(-1)).toMatchObject({ session_id: id, end: "exited", output: null });
    expect(lines.at(-2)).toMatchObject({ session_id: id, end: null, status: { status: "completed" } });
  });

  test("inbox --unread with nothing unread says so", async () => {
    await cw.launch(["sleep", "30"], ["unread-box"]);
    expect(await cw.ok(["inbox", "unread-box"])).toContain("inbox is empty");
    await cw.ok(["msg", "unread-box", "hello"]);
    await cw.ok(["inbox", "unread-box"]); // marks it read
    expect(await cw.ok(["inbox", "unread-box", "--unread"])).toContain("no unread messages");
  });
});

describe("cw kv without a relay", () => {
  test("says on stderr that this node's local store answered; --help says which store answers", async () => {
    const set = await cw.run(["kv", "set", "local-k", "v"]);
    expect(set.code).toBe(0);
    expect(set.stderr).toContain("this node's local store");
    const get = await cw.run(["kv", "get", "local-k"]);
    expect(get.stdout).toBe("v\n");
    expect(get.stderr).toContain("this node's local store");
    const help = await cw.ok(["kv", "--help"]);
    expect(help).toContain("local store");
    expect(help).toContain("--local");
  });

  test("cw kv delete of a missing key says so, rc 3", async () => {
    const r = await cw.run(["kv", "delete", "no-such-key"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("no key no-such-key");
  });
});

describe("a client gone before the node read its request", () => {
  /**
   * Sends `request` to a node that is stopped (busy, or suspended), and leaves before it reads:
   * the request and the hang-up wait in the socket together. Returns the node's pid.
   */
  async function sendAndLeave(home: CwHome, request: object): Promise<number> {
    await home.ok(["start"]);
    const node = home.nodePid()!;
    process.kill(node, "SIGSTOP");
    try {
      const gone = await Bun.connect({ unix: home.path("codewire.sock"), socket: { data() {} } });
      gone.write(controlFrame({ protocol: PROTOCOL_VERSION, ...request }));
      gone.end();
    } finally {
      process.kill(node, "SIGCONT");
    }
    return node;
  }

  test("its launch is not run when the node gets to it", async () => {
    const home = new CwHome();
    try {
      await sendAndLeave(home, { type: "Launch", command: ["sleep", "30"], name: "nobody-waits", working_dir: home.dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
      // Whichever comes first: the node says it dropped the request, or the session exists.
      await waitFor(async () => readFileSync(home.path("node.log"), "utf8").includes("a client left before its request was read") || (await home.list()).length > 0, "the node to get to the request");
      expect(await home.list()).toEqual([]);
      // A client that waits is served as ever.
      const id = await home.launch(["true"]);
      expect((await home.session(id)).id).toBe(id);
    } finally {
      await home.cleanup();
    }
  });

  test("one that only reads (READ_ONLY_REQUESTS, run at once) is answered into nothing without harm: no internal error, the next client served", async () => {
    const home = new CwHome();
    try {
      const node = await sendAndLeave(home, { type: "ListSessions", table: { width: 80, colour: false } });
      // The node served the next client, and nothing went wrong answering the gone one.
      const id = await home.launch(["true"]);
      expect((await home.session(id)).id).toBe(id);
      expect(await home.ok(["list"])).toMatch(/^1\s/m);
      expect(readFileSync(home.path("node.log"), "utf8")).not.toContain("internal error");
      expect(process.kill(node, 0)).toBe(true);
    } finally {
      await home.cleanup();
    }
  });
});
