/** Messages between sessions and the user: msg, inbox, request/reply, broadcast, listen, delivery into a TUI, durability, kv. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { capture, CwHome, waitFor } from "./helpers";

const COMPOSER = resolve(import.meta.dir, "fixtures/composer.ts");
let cw: CwHome;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});

const inbox = async (who: string) => JSON.parse(await cw.ok(["inbox", who, "--json"]));

describe("messages", () => {
  test("msg works from a plain shell (sender: user) and with -f; inbox marks read; sender defaults to CW_SESSION_ID", async () => {
    await cw.launch(["sleep", "60"], ["m-coder"]);
    const planner = await cw.launch(["sleep", "60"], ["m-planner"]);
    await cw.ok(["msg", "m-coder", "from the user"]);
    await cw.ok(["msg", "-f", "m-planner", "m-coder", "from planner"]);
    // Inside a session, the sender is that session.
    await cw.ok(["msg", "m-coder", "from env"], { env: { CW_SESSION_ID: String(planner) } });
    const box = await inbox("m-coder");
    expect(box.messages.map((m: any) => [m.from?.name ?? "user", m.body, m.read])).toEqual([
      ["user", "from the user", false],
      ["m-planner", "from planner", false],
      ["m-planner", "from env", false],
    ]);
    expect((await inbox("m-coder")).messages.every((m: any) => m.read)).toBe(true);
    expect((await inbox("m-coder")).unread).toBe(0);
    const text = await cw.ok(["inbox", "m-coder", "-t", "1"]);
    expect(text).toContain("[m-planner → m-coder] from env");
  });

  test("bad targets, empty and oversize bodies get clear errors", async () => {
    const r1 = await cw.run(["msg", "nobody", "hi"]);
    expect(r1.code).toBe(3);
    const done = await cw.launch(["true"], ["m-done"]);
    await cw.waitStatus(done, "completed");
    const r2 = await cw.run(["msg", "m-done", "hi"]);
    expect(r2.stderr).toContain("has ended");
    const r3 = await cw.run(["msg", "m-coder", ""]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain("empty");
    const r4 = await cw.run(["msg", "m-coder", "x".repeat(70_000)]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain("at most 65536 bytes");
  });

  test("request blocks until the reply; a session replies with cw reply from inside", async () => {
    // The responder is a session that reads its own inbox and answers requests with cw reply.
    const cwBin = resolve(import.meta.dir, "../dist/cw");
    const script = `for i in $(seq 1 200); do id=$(${cwBin} inbox --unread --json | grep -o '"id": "req_[0-9a-f]*"' | head -1 | cut -d'"' -f4); if [ -n "$id" ]; then ${cwBin} reply "$id" "PR 42 is up"; exit 0; fi; sleep 0.05; done; exit 1`;
    await cw.launch(["bash", "-c", script], ["m-responder"]);
    const r = await cw.run(["request", "-f", "m-planner", "m-responder", "ready for review?", "--timeout", "20", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.outcome).toBe("replied");
    expect(out.reply).toMatchObject({ kind: "reply", body: "PR 42 is up", from: { name: "m-responder" }, to: { name: "m-planner" } });
    expect(out.request.status).toBe("replied");
    // The reply is also in the requester's inbox.
    expect((await inbox("m-planner")).messages.some((m: any) => m.kind === "reply" && m.body === "PR 42 is up")).toBe(true);
    const again = await cw.run(["reply", out.request.id, "twice"]);
    expect(again.stderr).toContain("already answered");
  });

  test("request: timeout exits 124; a target that ends fails at once", async () => {
    const t = await cw.run(["request", "m-coder", "anyone?", "--timeout", "0.5"]);
    expect(t.code).toBe(124);
    expect(t.stderr).toContain("no reply");
    const dying = await cw.launch(["bash", "-c", "read x"], ["m-dying"]);
    const started = Date.now();
    const req = cw.run(["request", "m-dying", "please wait", "--timeout", "30"]);
    await waitFor(async () => (await inbox("m-dying")).messages.length > 0, "request stored");
    await cw.ok(["send", String(dying), "go"]);
    const r = await req;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ended before replying");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("a request back to a session that is waiting on you is refused instead of deadlocking", async () => {
    await cw.launch(["sleep", "60"], ["dl-a"]);
    await cw.launch(["sleep", "60"], ["dl-b"]);
    const first = cw.run(["request", "-f", "dl-a", "dl-b", "what is the schema?", "--timeout", "20", "--json"]);
    await waitFor(async () => (await inbox("dl-b")).messages.length > 0, "first request stored");
    const back = await cw.run(["request", "-f", "dl-b", "dl-a", "which table?", "--timeout", "20"]);
    expect(back.code).toBe(1);
    expect(back.stderr).toContain("would deadlock");
    const id = (await inbox("dl-b")).messages[0].id;
    expect(back.stderr).toContain(`cw reply ${id}`);
    await cw.ok(["reply", id, "users table", "-f", "dl-b"]);
    expect(JSON.parse((await first).stdout).reply.body).toBe("users table");
  });

  test("a request that closes a circle of waiting sessions (A→B→C→A) is refused too", async () => {
    for (const n of ["cy-a", "cy-b", "cy-c"]) await cw.launch(["sleep", "60"], [n]);
    const ab = cw.run(["request", "-f", "cy-a", "cy-b", "first?", "--timeout", "20", "--json"]);
    await waitFor(async () => (await inbox("cy-b")).messages.length > 0, "A's request stored");
    const bc = cw.run(["request", "-f", "cy-b", "cy-c", "second?", "--timeout", "20", "--json"]);
    await waitFor(async () => (await inbox("cy-c")).messages.length > 0, "B's request stored");
    const started = Date.now();
    const ca = await cw.run(["request", "-f", "cy-c", "cy-a", "third?", "--timeout", "20"]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ca.code).toBe(1);
    expect(ca.stderr).toContain("would deadlock");
    // What C must answer to break the circle is B's request to C.
    const bcId = (await inbox("cy-c")).messages[0].id;
    expect(ca.stderr).toContain(`cw reply ${bcId}`);
    await cw.ok(["reply", bcId, "two", "-f", "cy-c"]);
    expect(JSON.parse((await bc).stdout).reply.body).toBe("two");
    await cw.ok(["reply", (await inbox("cy-b")).messages.find((m: any) => m.kind === "request").id, "one", "-f", "cy-b"]);
    expect(JSON.parse((await ab).stdout).reply.body).toBe("one");
  });

  test("broadcast reaches every running session with the tag, not the sender", async () => {
    const a = await cw.launch(["sleep", "60"], ["b-a", "--tag", "crew"]);
    await cw.launch(["sleep", "60"], ["b-b", "--tag", "crew"]);
    await cw.launch(["sleep", "60"], ["b-c"]);
    const r = JSON.parse(await cw.ok(["broadcast", "--tag", "crew", "all hands", "-f", String(a), "--json"]));
    expect(r.map((m: any) => m.to.name)).toEqual(["b-b"]);
    expect((await inbox("b-b")).messages.at(-1).body).toBe("all hands");
    expect((await inbox("b-c")).messages).toEqual([]);
  });

  test("listen shows traffic in the seed's format; subscribe sees message events", async () => {
    const l = cw.spawn(["listen"]);
    const out = capture(l.stdout);
    const err = capture(l.stderr);
    await waitFor(() => err.text.includes("listening"), "listen ack");
    await cw.ok(["msg", "-f", "m-planner", "m-coder", "start with the auth module"]);
    const req = cw.run(["request", "-f", "m-coder", "m-planner", "need the DB schema?", "--timeout", "20"]);
    const id = await waitFor(() => /REQUEST \((req_[0-9a-f]+)\)/.exec(out.text)?.[1], "request in listen");
    await cw.ok(["reply", id, "use the existing users table", "-f", "m-planner"]);
    expect((await req).stdout).toContain("[reply from m-planner] use the existing users table");
    await waitFor(() => out.text.includes("REPLY"), "reply in listen");
    l.kill();
    await Promise.all([out.done, err.done]);
    expect(out.text).toContain("[m-planner → m-coder] start with the auth module");
    expect(out.text).toContain(`[m-coder → m-planner] REQUEST (${id}): need the DB schema?`);
    expect(out.text).toContain(`[m-planner] REPLY (${id}): use the existing users table`);
  });
});

describe("delivery into a terminal", () => {
  test("--delivery pty submits into a full-screen TUI that swallows an Enter right after a paste", async () => {
    const id = await cw.launch([process.execPath, COMPOSER], ["tui"]);
    await waitFor(async () => (await cw.ok(["logs", "tui"])).includes("> "), "composer drawn");
    const r = JSON.parse(await cw.ok(["msg", "tui", "please run the tests", "--delivery", "both", "--json"]));
    expect(r.delivered_to_pty).toBe(true);
    await waitFor(async () => JSON.parse(await cw.ok(["status", "tui", "--json", "--lines", "50"])).recent_output.includes("SUBMITTED: [message from user] please run the tests"), "submitted line");
    expect((await inbox("tui")).messages.at(-1).body).toBe("please run the tests");
    await cw.ok(["kill", String(id)]);
  });

  test("the sender checks the input was taken and presses Enter once more if not", async () => {
    await cw.launch([process.execPath, COMPOSER, "--swallow-first"], ["tui2"]);
    await waitFor(async () => (await cw.ok(["logs", "tui2"])).includes("> "), "composer drawn");
    const r = JSON.parse(await cw.ok(["msg", "tui2", "second try works", "--delivery", "pty", "--json"]));
    expect(r.delivered_to_pty).toBe(true);
    await waitFor(async () => JSON.parse(await cw.ok(["status", "tui2", "--json", "--lines", "50"])).recent_output.includes("SUBMITTED: [message from user] second try works"), "submitted after retry");
  });

  test("a program on pipes (launch --no-pty) gets the message as one line it can read", async () => {
    const id = await cw.launch(["sh", "-c", 'read -r line; echo "read:$line"'], ["pipes-reader", "--no-pty"]);
    const r = JSON.parse(await cw.ok(["msg", "pipes-reader", "two\nlines", "--delivery", "pty", "--json"]));
    expect(r.delivered_to_pty).toBe(true);
    const s = await cw.waitStatus(id, "completed");
    expect(s.exit_code).toBe(0);
    expect(await cw.ok(["logs", "pipes-reader"])).toContain("read:[message from user] two lines");
  });
});

describe("durability", () => {
  test("inboxes, read state and unanswered requests survive a node crash", async () => {
    const home = new CwHome();
    try {
      await home.launch(["sleep", "60"], ["d-a"]);
      await home.ok(["msg", "d-a", "kept one"]);
      await home.ok(["msg", "d-a", "kept two"]);
      await home.ok(["inbox", "d-a", "-t", "1"]); // marks "kept two" read
      const pending = home.run(["request", "d-a", "answer me later", "--timeout", "60"]);
      await waitFor(async () => JSON.parse(await home.ok(["inbox", "d-a", "--json", "--peek"])).messages.length === 3, "request stored");
      process.kill(home.nodePid()!, "SIGKILL");
      await pending;
      const box = JSON.parse(await home.ok(["inbox", "d-a", "--json", "--peek"]));
      expect(box.messages.map((m: any) => [m.body, m.read])).toEqual([
        ["kept one", false],
        ["kept two", true],
        ["answer me later", false],
      ]);
      const req = box.messages[2];
      expect(req.status).toBe("pending");
      // Still answerable after the restart.
      await home.ok(["reply", req.id, "here you go"]);
    } finally {
      await home.cleanup();
    }
  });
});

describe("kv", () => {
  test("set, get, list by prefix, namespaces, ttl, delete", async () => {
    await cw.ok(["kv", "set", "task:1", "todo"]);
    await cw.ok(["kv", "set", "task:2", "done"]);
    await cw.ok(["kv", "set", "other", "x"]);
    await cw.ok(["kv", "set", "--ns", "proj", "task:1", "elsewhere"]);
    expect((await cw.ok(["kv", "get", "task:1"])).trim()).toBe("todo");
    expect(JSON.parse(await cw.ok(["kv", "list", "task:", "--json"])).map((e: any) => [e.key, e.value])).toEqual([
      ["task:1", "todo"],
      ["task:2", "done"],
    ]);
    expect((await cw.ok(["kv", "get", "--ns", "proj", "task:1"])).trim()).toBe("elsewhere");
    await cw.ok(["kv", "set", "--ttl", "1s", "lock", "node-a"]);
    expect((await cw.ok(["kv", "get", "lock"])).trim()).toBe("node-a");
    await waitFor(async () => (await cw.run(["kv", "get", "lock"])).code === 3, "lock to expire", 5000, 100);
    await cw.ok(["kv", "delete", "task:2"]);
    expect((await cw.run(["kv", "get", "task:2"])).code).toBe(3);
    expect((await cw.run(["kv", "delete", "task:2"])).code).toBe(3);
    expect((await cw.run(["kv", "set", "--ttl", "soon", "k", "v"])).code).toBe(2);
  });
});
