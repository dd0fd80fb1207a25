/**
 * `cw web` in a real browser (Debian's Chromium through playwright-core) against the compiled
 * binary: signing in with the printed one-time link, the dashboard, a session's terminal
 * (a full-screen program's screen, typing, resizing, two tabs, the session ending, view mode,
 * detaching), and what is refused: no cookie, a forged CSRF token, another origin or host, a
 * used link, a signed-out cookie. A `<script>` in what a session shows stays text.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { CwHome, waitFor } from "./helpers";
import { Browser, screenshot, screenText, termState, WebProcess, waitScreen } from "./web-helpers";

let home: CwHome;
let web: WebProcess;
let browser: Browser;

beforeEach(async () => {
  home = new CwHome();
  web = new WebProcess(home);
  await web.start();
  browser = new Browser();
  await browser.start();
});
afterEach(async () => {
  await browser?.close();
  await web?.stop();
  await home?.cleanup();
});

/** Opens the printed link in a new tab: signed in, on the dashboard. */
async function signIn(): Promise<Page> {
  const page = await browser.page();
  await page.goto(web.link);
  await page.waitForSelector('body[data-signed-in="true"]');
  expect(page.url()).toBe(`${web.url}/`);
  return page;
}

function row(page: Page, id: number) {
  return page.locator(`tr[data-session="${id}"]`);
}

/** Opens session `id`'s terminal from the dashboard (`view`: read-only) and waits for it to attach. */
async function openTerminal(page: Page, id: number, view = false): Promise<void> {
  await row(page, id).getByRole("link", { name: view ? "View" : "Attach" }).click();
  await waitFor(async () => (await termState(page)) === "attached", "the terminal to attach");
}

async function cookieHeader(): Promise<string> {
  const c = (await browser.context.cookies()).find((x) => x.name === "cw_session");
  if (!c) throw new Error("no sign-in cookie");
  return `cw_session=${c.value}`;
}

describe("signing in", () => {
  test("the printed link signs in once: a cookie that is HttpOnly, SameSite=Strict and expiring, and the token leaves the URL", async () => {
    const page = await signIn();
    const c = (await browser.context.cookies()).find((x) => x.name === "cw_session")!;
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe("Strict");
    expect(c.expires).toBeGreaterThan(Date.now() / 1000);
    expect(c.expires).toBeLessThan(Date.now() / 1000 + 13 * 3600);
    expect(await page.evaluate("document.cookie")).toBe("");
    // The link again, in another browser: used up.
    const other = new Browser();
    await other.start();
    try {
      const p2 = await other.page();
      const res = await p2.goto(web.link);
      expect(res!.status()).toBe(401);
      await p2.waitForSelector('body[data-signed-in="false"]');
      expect(await p2.locator("main").innerText()).toContain("Open the link that `cw web` printed");
    } finally {
      await other.close();
    }
  });

  test("signing out ends the sign-in: the page asks for the link again, and the old cookie is refused", async () => {
    const page = await signIn();
    const other = await browser.page();
    await other.goto(`${web.url}/`);
    await other.waitForSelector("table.sessions");
    const cookie = await cookieHeader();
    expect((await fetch(`${web.url}/web/nodes`, { headers: { cookie } })).status).toBe(200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForSelector('body[data-signed-in="false"]');
    // The other tab's dashboard notices at its next refresh.
    await other.waitForSelector('body[data-signed-in="false"]', { timeout: 10_000 });
    expect((await fetch(`${web.url}/web/nodes`, { headers: { cookie } })).status).toBe(401);
    const ws = await fetch(`${web.url}/api/v1/nodes/local/connect`, { headers: { cookie, origin: web.url, upgrade: "websocket", connection: "upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
    expect(ws.status).toBe(401);
  });
});

describe("signing in with a code", () => {
  test("a browser without the link shows a code; a signed-in browser approves it, once, and the first is signed in", async () => {
    const page = await signIn();
    const phone = new Browser();
    await phone.start({ phone: true });
    try {
      const p2 = await phone.page();
      await p2.goto(`${web.url}/`);
      await p2.getByRole("button", { name: "Sign in with a code" }).click();
      const code = await waitFor(async () => /^[A-Z2-9]{4}-[A-Z2-9]{4}$/.exec(await p2.locator(".user-code").innerText().catch(() => ""))?.[0], "a code");
      await page.locator("details.approve summary").click();
      const approve = async (typed: string) => {
        await page.locator('details.approve input[name="user_code"]').fill(typed);
        await page.locator("details.approve").getByRole("button", { name: "Approve" }).click();
        return waitFor(async () => page.locator(".approve-result").innerText().catch(() => ""), "the approval's answer");
      };
      expect(await approve("AAAA-AAAA")).toContain("no browser is waiting with that code");
      await page.locator(".approve-result").evaluate((el) => (el.textContent = ""));
      expect(await approve(code.toLowerCase().replace("-", " "))).toBe("Approved: that browser is signed in.");
      await p2.waitForSelector('body[data-signed-in="true"]', { timeout: 10_000 });
      expect((await phone.context.cookies()).find((c) => c.name === "cw_session")?.httpOnly).toBe(true);
      await page.locator(".approve-result").evaluate((el) => (el.textContent = ""));
      expect(await approve(code)).toContain("no browser is waiting with that code");
    } finally {
      await phone.close();
    }
  });
});

describe("what is refused", () => {
  test("no cookie: 401 with a hint, for the API and the terminal's WebSocket", async () => {
    const res = await fetch(`${web.url}/web/nodes/local/sessions`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; hint: string };
    expect(body.error).toBe("unauthorized");
    expect(body.hint).toContain("cw web");
    const ws = await fetch(`${web.url}/api/v1/nodes/local/connect`, { headers: { origin: web.url, upgrade: "websocket", connection: "upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
    expect(ws.status).toBe(401);
  });

  test("a forged CSRF token, or none, or another origin: 403 and nothing launched or killed", async () => {
    await signIn();
    const cookie = await cookieHeader();
    const id = await home.launch(["sleep", "600"]);
    const launch = (headers: Record<string, string>) => fetch(`${web.url}/web/nodes/local/sessions`, { method: "POST", headers: { cookie, "content-type": "application/json", ...headers }, body: JSON.stringify({ command: ["touch", home.path("pwned")] }) });
    const forged = await launch({ origin: web.url, "x-csrf-token": "forged" });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: string }).error).toBe("csrf");
    expect((await launch({ origin: web.url })).status).toBe(403);
    expect((await launch({ origin: "http://evil.example", "x-csrf-token": "forged" })).status).toBe(403);
    const kill = await fetch(`${web.url}/web/nodes/local/sessions/${id}/kill`, { method: "POST", headers: { cookie, origin: web.url, "x-csrf-token": "forged" } });
    expect(kill.status).toBe(403);
    expect((await home.list()).map((s) => [s.id, s.status])).toEqual([[id, "running"]]);
    // And the page's own token works.
    const me = (await (await fetch(`${web.url}/web/me`, { headers: { cookie } })).json()) as { csrf: string };
    expect((await launch({ origin: web.url, "x-csrf-token": me.csrf })).status).toBe(201);
  });

  test("a request for another host name (DNS rebinding) is refused; the page carries a strict CSP", async () => {
    const port = new URL(web.url).port;
    const res = await fetch(`${web.url}/`, { headers: { host: `evil.example:${port}` } });
    expect(res.status).toBe(421);
    const page = await fetch(`${web.url}/`);
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).toMatch(/style-src 'self' 'nonce-[^']+';/);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
  });

  test("cw web listens on loopback only, and says so when its port is taken", async () => {
    const r = await home.run(["web", "--listen", "0.0.0.0:0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("loopback only");
    expect(r.stderr).toContain("SSH tunnel");
    const taken = await home.run(["web", "--listen", `127.0.0.1:${new URL(web.url).port}`]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("cannot listen on 127.0.0.1:");
    expect(taken.stderr).toContain("or 127.0.0.1:0 for any free one");
  });

  test("the terminal's WebSocket attaches and does nothing else: another request first is refused", async () => {
    await signIn();
    const id = await home.launch(["sleep", "600"]);
    const ws = new WebSocket(`${web.url.replace("http:", "ws:")}/api/v1/nodes/local/connect`, { headers: { cookie: await cookieHeader(), origin: web.url } } as unknown as string[]);
    const said: string[] = [];
    ws.onmessage = (ev) => said.push(String(ev.data));
    const closed = new Promise<number>((resolve) => (ws.onclose = (ev) => resolve(ev.code)));
    ws.onopen = () => ws.send(JSON.stringify({ type: "Kill", id }));
    expect(await closed).toBe(1008);
    expect(JSON.parse(said[0]!)).toMatchObject({ type: "Error", code: "bad_request", message: "the first message must be an Attach request" });
    expect((await home.session(id)).status).toBe("running");
  });
});

describe("the page's assets", () => {
  test("the script and stylesheet are named by their content, kept by the browser for good, and gzipped for who accepts it", async () => {
    const html = await (await fetch(`${web.url}/`)).text();
    const js = /<script defer src="(\/app\/app\.[a-z0-9]+\.js)">/.exec(html)?.[1];
    const css = /<link rel="stylesheet" href="(\/app\/app\.[a-z0-9]+\.css)">/.exec(html)?.[1];
    expect(js).toBeDefined();
    expect(css).toBeDefined();
    const plain = await fetch(`${web.url}${js}`, { headers: { "accept-encoding": "identity" } });
    expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(plain.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(plain.headers.get("content-encoding")).toBeNull();
    const text = await plain.text();
    const gz = await fetch(`${web.url}${js}`, { headers: { "accept-encoding": "gzip, br" }, decompress: false });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    const bytes = new Uint8Array(await gz.arrayBuffer());
    expect(bytes.length).toBeLessThan(text.length / 2);
    expect(new TextDecoder().decode(Bun.gunzipSync(bytes))).toBe(text);
    expect((await fetch(`${web.url}${css}`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect((await fetch(`${web.url}/app/app.js`)).status).toBe(404);
    // A second page load takes both from the browser's cache.
    const page = await signIn();
    await page.reload();
    await page.waitForSelector('body[data-signed-in="true"]');
    const sizes = (await page.evaluate('performance.getEntriesByType("resource").filter((e) => e.name.includes("/app/app.")).map((e) => e.transferSize)')) as number[];
    expect(sizes).toEqual([0, 0]);
  });
});

describe("the dashboard", () => {
  test("lists sessions with name, command, status, exit code, age and tags; `<script>` shows as text", async () => {
    await home.launch(["sh", "-c", "echo '<script>window.pwned=1</script>'; sleep 600"], ["--name", "web-demo", "--tag", "<script>window.pwned=2</script>"]);
    const done = await home.launch(["sh", "-c", "exit 3"]);
    await home.waitStatus(done, "completed");
    const page = await signIn();
    const demo = row(page, 1);
    await demo.waitFor();
    expect(await demo.locator("td.name").innerText()).toBe("web-demo");
    expect(await demo.locator("td.command").innerText()).toContain("<script>window.pwned=1</script>");
    expect(await demo.locator("td").nth(6).innerText()).toBe("<script>window.pwned=2</script>");
    expect(await demo.locator("td.status").innerText()).toBe("running");
    expect(await row(page, done).locator("td.status").innerText()).toBe("completed (3)");
    expect(await row(page, done).locator("td").nth(4).innerText()).toBe("3");
    expect(await page.evaluate('[document.querySelectorAll("main script").length, window.pwned ?? 0]')).toEqual([0, 0]);
    // Its log, as text.
    await demo.getByRole("link", { name: "Log" }).click();
    await waitFor(async () => (await page.locator("pre.log").innerText()).includes("<script>window.pwned=1</script>"), "the log");
    expect(await page.evaluate('document.querySelectorAll("pre.log *").length')).toBe(0);
    await page.goto(`${web.url}/#/`);
    await row(page, 1).waitFor();
    await screenshot(page, "web-dashboard.png");
  });

  test("launches a session and kills it", async () => {
    const page = await signIn();
    await page.locator('form.launch input[name="command"]').fill("sleep 600");
    await page.locator('form.launch input[name="name"]').fill("sleeper");
    await page.locator('form.launch input[name="tags"]').fill("web, demo");
    await page.getByRole("button", { name: "Launch" }).click();
    const s = await waitFor(async () => (await home.list()).find((x) => x.name === "sleeper"), "the session to start");
    expect(s.command).toEqual(["sleep", "600"]);
    expect(s.tags).toEqual(["web", "demo"]);
    await row(page, s.id).getByRole("button", { name: "Kill" }).click();
    await home.waitStatus(s.id, "killed");
    await waitFor(async () => (await row(page, s.id).locator("td.status").innerText()) === "killed", "the dashboard to show it killed");
  });
});

describe("the terminal", () => {
  test("paints a full-screen program's screen on open", async () => {
    writeFileSync(home.path("notes.txt"), "first line of the notes\nsecond line, in vim\n");
    const id = await home.launch(["vim", "-u", "NONE", "-N", home.path("notes.txt")]);
    await waitFor(async () => (await home.ok(["screen", String(id)])).includes("second line, in vim"), "vim to draw");
    const page = await signIn();
    await openTerminal(page, id);
    const screen = await waitScreen(page, (s) => s.includes("second line, in vim") && /^~/m.test(s), "vim's screen");
    expect(screen).toContain("first line of the notes");
    // xterm.js's own <style> elements carry the page's nonce: the CSP blocked nothing.
    expect(browser.blocked).toEqual([]);
    expect(await page.evaluate("window.__cspViolations")).toEqual([]);
    expect(await page.evaluate('[...document.querySelectorAll("style")].every((s) => s.nonce !== "")')).toBe(true);
    await screenshot(page, "web-terminal-vim.png");
    // Keys reach vim: quit it, and the page says the session ended.
    await page.keyboard.type(":q\n");
    await waitFor(async () => (await termState(page)) === "ended", "the session to end");
    expect(await page.locator(".term-status").innerText()).toBe("session ended: completed (0)");
  });

  test("typing runs a command; resizing the window changes the program's size (tput cols)", async () => {
    const id = await home.launch(["bash", "--norc", "--noprofile"], ["--env", "PS1=$ "]);
    const page = await signIn();
    await openTerminal(page, id);
    await page.keyboard.type("echo web-$((6*7)); tput cols\n");
    const before = await waitScreen(page, (s) => s.includes("web-42"), "the command's output");
    const cols1 = Number(/web-42\n(\d+)/.exec(before)![1]);
    expect(cols1).toBeGreaterThan(100);
    await screenshot(page, "web-terminal.png");
    await page.setViewportSize({ width: 600, height: 500 });
    await waitFor(async () => (await home.session(id)).cols < cols1, "the session to be resized");
    await page.keyboard.type("clear; tput cols\n");
    const after = await waitScreen(page, (s) => /^\d+$/m.test(s) && !s.includes("web-42"), "tput cols after the resize");
    const cols2 = Number(/^(\d+)$/m.exec(after)![1]);
    expect(cols2).toBeLessThan(cols1);
    expect(cols2).toBe((await home.session(id)).cols);
  });

  test("two tabs on one session both see what either types; a session ending ends both", async () => {
    const id = await home.launch(["bash", "--norc", "--noprofile"], ["--env", "PS1=$ "]);
    const a = await signIn();
    await openTerminal(a, id);
    const b = await browser.page();
    await b.goto(`${web.url}/#/t/local/${id}`);
    await waitFor(async () => (await termState(b)) === "attached", "the second tab to attach");
    await waitFor(async () => (await home.session(id)).attached_count === 2, "two viewers");
    await a.keyboard.type("echo from-tab-$((1+0))\n");
    await waitScreen(b, (s) => s.includes("from-tab-1"), "tab b to see tab a's command");
    await b.keyboard.type("echo from-tab-$((1+1))\n");
    await waitScreen(a, (s) => s.includes("from-tab-2"), "tab a to see tab b's command");
    await b.keyboard.type("exit 7\n");
    for (const p of [a, b]) {
      await waitFor(async () => (await termState(p)) === "ended", "both tabs to see the end");
      expect(await p.locator(".term-status").innerText()).toBe("session ended: completed (7)");
    }
  });

  test("the cursor blinks by a timer, with no animation running (which would keep Chromium making frames)", async () => {
    const id = await home.launch(["bash", "--norc", "--noprofile"], ["--env", "PS1=$ "]);
    const page = await signIn();
    await openTerminal(page, id);
    await waitScreen(page, (s) => s.includes("$"), "the prompt");
    const cursor = () => page.evaluate('getComputedStyle(document.querySelector(".xterm-rows .xterm-cursor")).backgroundColor') as Promise<string>;
    const shown = await waitFor(async () => ((await page.locator(".term-screen.cw-cursor-off").count()) === 0 ? await cursor() : undefined), "the cursor to show");
    await waitFor(async () => ((await cursor()) !== shown ? true : undefined), "the cursor to hide", 5_000);
    await waitFor(async () => ((await cursor()) === shown ? true : undefined), "the cursor to show again", 5_000);
    expect(await page.evaluate("document.getAnimations().length")).toBe(0);
  });

  test("Ctrl+B d and the Detach button leave the session running", async () => {
    const id = await home.launch(["bash", "--norc", "--noprofile"], ["--env", "PS1=$ "]);
    const page = await signIn();
    await openTerminal(page, id);
    await page.keyboard.press("Control+b");
    await page.keyboard.press("d");
    await page.waitForSelector("table.sessions");
    expect(new URL(page.url()).hash).toBe("#/");
    await waitFor(async () => (await home.session(id)).attached_count === 0, "the detach");
    await openTerminal(page, id);
    await page.getByRole("button", { name: "Detach" }).click();
    await page.waitForSelector("table.sessions");
    await waitFor(async () => (await home.session(id)).attached_count === 0, "the second detach");
    expect((await home.session(id)).status).toBe("running");
  });

  test("on a phone: the list fits the screen, and the key bar gives Ctrl and arrows", async () => {
    await browser.close();
    browser = new Browser();
    await browser.start({ phone: true });
    const id = await home.launch(["bash", "--norc", "--noprofile"], ["--env", "PS1=$ "]);
    const page = await signIn();
    // The list fits the screen: a session's buttons are within reach, no sideways scrolling.
    const attach = await row(page, id).getByRole("link", { name: "Attach" }).boundingBox();
    expect(attach!.x + attach!.width).toBeLessThanOrEqual(390);
    await screenshot(page, "web-phone-dashboard.png");
    await openTerminal(page, id);
    const key = (name: string) => page.locator(`.keybar button[data-key="${name}"]`).tap();
    expect(await page.locator(".keybar").isVisible()).toBe(true);
    await page.keyboard.type("echo first-$((3*3))\n");
    await waitScreen(page, (s) => s.includes("first-9"), "the first command");
    await page.keyboard.type("sleep 600\n");
    await waitFor(async () => (await home.ok(["status", String(id), "--json"])).includes("sleep"), "sleep to run");
    // Ctrl from the bar, then c from the on-screen keyboard: an interrupt.
    await key("ctrl");
    expect(await page.locator('.keybar button[data-key="ctrl"]').getAttribute("aria-pressed")).toBe("true");
    await page.keyboard.type("c");
    await waitScreen(page, (s) => /sleep 600\n\^C\n\$\s*$/.test(s), "the interrupt and a new prompt");
    // Up twice recalls the first command; Enter runs it again.
    await key("up");
    await key("up");
    await page.keyboard.type("\n");
    await waitScreen(page, (s) => s.split("first-9").length === 3, "the recalled command's output");
    await screenshot(page, "web-phone-terminal.png");
  });

  test("view mode shows the session live but sends no keys and keeps its size", async () => {
    const id = await home.launch(["bash", "--norc", "--noprofile"], ["--env", "PS1=$ "]);
    const { cols, rows } = await home.session(id);
    const page = await signIn();
    await openTerminal(page, id, true);
    expect(await page.locator(".term-view").getAttribute("data-mode")).toBe("view");
    await page.locator(".xterm").click();
    await page.keyboard.type("echo typed-in-view-mode\n");
    await home.ok(["send", String(id), "echo sent-by-cw-$((2*21))"]);
    const screen = await waitScreen(page, (s) => s.includes("sent-by-cw-42"), "output sent from the CLI");
    expect(screen).not.toContain("typed-in-view-mode");
    expect((await home.session(id)).cols).toBe(cols);
    expect((await home.session(id)).rows).toBe(rows);
    expect(await screenText(page)).not.toContain("typed-in-view-mode");
  });
});
