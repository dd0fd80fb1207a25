/**
 * cw send (and MCP send_input's path): a line submitted into a TUI the way it takes one, the
 * submit checked and reported; Enter as a terminal sends it from every source; bytes kept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { capture, CW, CwHome, shq, waitFor } from "./helpers";

const COMPOSER = resolve(import.meta.dir, "fixtures/composer.ts");
const KEYS = resolve(import.meta.dir, "fixtures/keys.ts");
let cw: CwHome;
beforeAll(() => {
  cw = new CwHome();
});
afterAll(async () => {
  await cw.cleanup();
});

const screen = async (id: number) => JSON.parse(await cw.ok(["screen", String(id), "--json"])).lines.join("\n") as string;

async function composer(...flags: string[]): Promise<number> {
  const id = await cw.launch([process.execPath, COMPOSER, ...flags]);
  await waitFor(async () => (await screen(id)).includes("> "), "composer drawn");
  return id;
}

/** Every byte the keys fixture has read so far, as hex pairs. */
async function keysRead(id: number): Promise<string> {
  const log = await cw.ok(["logs", String(id)]);
  return [...log.matchAll(/READ ([0-9a-f ]+)/g)].map((m) => m[1]!.trim()).join(" ");
}

async function keys(): Promise<number> {
  const id = await cw.launch([process.execPath, KEYS]);
  await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("ready"), "keys fixture ready");
  return id;
}

const hex = (s: string | Buffer) => [...Buffer.from(s)].map((b) => b.toString(16).padStart(2, "0")).join(" ");

describe("submitting a line into a TUI", () => {
  test("a TUI that takes a fast burst as a paste gets every line submitted, and cw send says so", async () => {
    const id = await composer("--burst-paste");
    for (const text of ["first line", "a second, longer line well past sixty characters, as agents get them", "third"]) {
      const r = await cw.run(["send", String(id), text, "--json"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).submit).toBe("verified");
      expect(r.stderr).toBe("");
      await waitFor(async () => (await screen(id)).includes(`SUBMITTED: ${text}`), `"${text}" submitted`);
    }
    await cw.ok(["kill", String(id)]);
  });

  test("a line that wraps on the input line, its last characters on the next row, is still checked", async () => {
    const id = await composer("--burst-paste");
    const { cols } = await cw.session(id);
    // "> " and the text fill one row and 5 characters of the next, where the cursor is.
    const text = `${"w".repeat(cols - 12)} then 12345`.padStart(cols + 3, "v");
    expect(text.length).toBe(cols + 3);
    const r = await cw.run(["send", String(id), text, "--json"]);
    expect(JSON.parse(r.stdout).submit).toBe("verified");
    expect(r.code).toBe(0);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("SUBMITTED: vvv"), "wrapped line submitted");
    await cw.ok(["kill", String(id)]);
  });

  test("when the first Enter is swallowed, cw send presses it again", async () => {
    const id = await composer("--swallow-first");
    const r = JSON.parse(await cw.ok(["send", String(id), "once more", "--json"]));
    expect(r.submit).toBe("verified");
    await waitFor(async () => (await screen(id)).includes("SUBMITTED: once more"), "submitted after the retry");
    await cw.ok(["kill", String(id)]);
  });

  test("text still on the input line after Enter twice: a warning, submit failed, exit 1", async () => {
    const id = await composer("--ignore-enter");
    const r = await cw.run(["send", String(id), "nobody takes this", "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).submit).toBe("failed");
    expect(r.stderr).toContain("Enter did not submit it");
    expect(r.stderr).toContain(`cw screen ${id}`);
    await cw.ok(["kill", String(id)]);
  });

  test("text that never shows on the input line cannot be checked: a warning, exit 0", async () => {
    const id = await cw.launch(["bash", "-c", "stty -echo; echo ready; read -r x; echo got=[$x]; sleep 30"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("ready"), "ready");
    const r = await cw.run(["send", String(id), "secret", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).submit).toBe("unconfirmed");
    expect(r.stderr).toContain("whether it was taken is unknown");
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("got=[secret]"), "line read");
    await cw.ok(["kill", String(id)]);
  });
});

describe("Enter and bytes", () => {
  test("--stdin and --file press Enter as a terminal does (CR, after the text); newlines are CRs; --no-newline and --raw", async () => {
    const id = await keys();
    await cw.ok(["send", String(id), "--stdin"], { stdin: "ab\ncd\n" });
    // The text (its newline a CR), then Enter alone, a write of its own.
    await waitFor(async () => (await keysRead(id)) === hex("ab\rcd\r"), "stdin as typed");
    const f = cw.path("keys-input.txt");
    writeFileSync(f, "ef\r\n");
    await cw.ok(["send", String(id), "--file", f, "--no-newline"]);
    await waitFor(async () => (await keysRead(id)) === hex("ab\rcd\ref"), "file without Enter");
    await cw.ok(["send", String(id), "--stdin", "--raw"], { stdin: "g\nh\n" });
    await waitFor(async () => (await keysRead(id)) === hex("ab\rcd\refg\nh\n"), "raw bytes");
    await cw.ok(["send", String(id), "--raw", "--", "\x04"]);
    await cw.waitStatus(id, "completed");
  });

  test("bytes that are not UTF-8 reach the program as given: an argument's, and --stdin's", async () => {
    const id = await keys();
    // A shell passes the argument's bytes as they are; Bun's argv would have made them U+FFFD.
    const p = Bun.spawn(["bash", "-c", `${shq(CW)} send ${id} --no-newline $'a\\xffb'`], { env: cw.env, stdout: "pipe", stderr: "pipe" });
    expect(await p.exited).toBe(0);
    await waitFor(async () => (await keysRead(id)) === "61 ff 62", "argument bytes");
    const q = Bun.spawn([CW, "send", String(id), "--stdin", "--raw"], { env: cw.env, stdin: Buffer.from([0xfe, 0x63]), stdout: "pipe", stderr: "pipe" });
    expect(await q.exited).toBe(0);
    await waitFor(async () => (await keysRead(id)) === "61 ff 62 fe 63", "stdin bytes");
    await cw.ok(["kill", String(id)]);
  });

  test("cw watch writes the program's bytes as they are, also labelled with --tag", async () => {
    const id = await cw.launch(["bash", "-c", "printf 'x\\xffy\\n'; read -r _"], ["--tag", "bytes"]);
    await waitFor(async () => (await cw.ok(["logs", String(id)])).includes("y"), "output");
    for (const args of [[String(id)], ["--tag", "bytes"]]) {
      const w = Bun.spawn([CW, "watch", ...args, "--timeout", "0.5"], { env: cw.env, stdout: "pipe", stderr: "pipe" });
      const out = Buffer.from(await new Response(w.stdout).arrayBuffer());
      await w.exited;
      expect(hex(out)).toContain("78 ff 79");
    }
    await cw.ok(["kill", String(id)]);
  });
});

describe("send_input over MCP", () => {
  test("reports the submit, and fails when the text stays on the input line", async () => {
    const ok = await composer("--burst-paste");
    const stuck = await composer("--ignore-enter");
    const server = Bun.spawn([CW, "mcp-server"], { env: cw.env, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    const out = capture(server.stdout);
    const send = (m: object) => {
      server.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...m })}\n`);
      server.stdin.flush();
    };
    const answer = (id: number) =>
      waitFor(() => out.text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((m) => m.id === id), `MCP answer ${id}`, 15_000);
    send({ id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } } });
    await answer(1);
    send({ method: "notifications/initialized" });
    send({ id: 2, method: "tools/call", params: { name: "codewire_send_input", arguments: { session: ok, text: "via mcp" } } });
    const r = (await answer(2)).result;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent.submit).toBe("verified");
    await waitFor(async () => (await screen(ok)).includes("SUBMITTED: via mcp"), "submitted over MCP");
    send({ id: 3, method: "tools/call", params: { name: "codewire_send_input", arguments: { session: stuck, text: "stuck" } } });
    const s = (await answer(3)).result;
    expect(s.isError).toBe(true);
    expect(s.content[0].text).toContain("Enter did not submit it");
    server.kill();
    await server.exited;
    await cw.ok(["kill", String(ok), String(stuck)]);
  });
});
