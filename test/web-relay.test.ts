/**
 * The web app on a relay, in a real browser: sign in with a person's token (the admin token
 * today; a node's token is refused), every node with online/offline and last seen, each node's
 * sessions, and a terminal attached through the relay to a session on another machine. Each
 * CwHome stands for one machine.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { CwHome, RelayProcess, waitFor } from "./helpers";
import { Browser, screenshot, termState, waitScreen } from "./web-helpers";

let relay: RelayProcess;
let dev1: CwHome;
let dev2: CwHome;
let browser: Browser;

beforeAll(async () => {
  relay = new RelayProcess();
  await relay.start();
  dev1 = new CwHome();
  dev2 = new CwHome();
  expect(await dev1.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "web-1"])).toContain("connected");
  expect(await dev2.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "web-2"])).toContain("connected");
});
afterAll(async () => {
  await dev1?.cleanup();
  await dev2?.cleanup();
  await relay?.cleanup();
});
beforeEach(async () => {
  browser = new Browser();
  await browser.start();
});
afterEach(async () => {
  await browser?.close();
});

async function signIn(token = relay.adminToken!): Promise<Page> {
  const page = await browser.page();
  await page.goto(`${relay.url}/`);
  await page.waitForSelector('body[data-signed-in="false"]');
  await page.locator('input[name="token"]').fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  return page;
}

function node(page: Page, name: string) {
  return page.locator(`section.node[data-node="${name}"]`);
}

describe("the relay's web app", () => {
  test("a node's token or a wrong one does not sign in; the admin token does", async () => {
    const nodeToken = /token = "([^"]+)"/.exec(readFileSync(dev1.path("relay.toml"), "utf8"))![1]!;
    const page = await signIn(nodeToken);
    await waitFor(async () => (await page.locator(".notice.error").innerText()).includes("does not sign in"), "the refusal");
    await page.locator('input[name="token"]').fill("not-a-token");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await waitFor(async () => (await page.locator(".notice.error").innerText()).includes("does not sign in"), "the refusal");
    expect(await browser.context.cookies()).toEqual([]);
    await page.locator('input[name="token"]').fill(relay.adminToken!);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForSelector('body[data-signed-in="true"]');
    const c = (await browser.context.cookies()).find((x) => x.name === "cw_session")!;
    expect([c.httpOnly, c.sameSite]).toEqual([true, "Strict"]);
    // Without the cookie, or with a forged CSRF token: refused. The relay's own API is unchanged.
    expect((await fetch(`${relay.url}/web/nodes`)).status).toBe(401);
    const forged = await fetch(`${relay.url}/web/nodes/web-1/sessions`, { method: "POST", headers: { cookie: `cw_session=${c.value}`, origin: relay.url, "x-csrf-token": "forged", "content-type": "application/json" }, body: JSON.stringify({ command: ["true"] }) });
    expect(forged.status).toBe(403);
    expect((await relay.api("GET", "/api/v1/nodes")).status).toBe(200);
  });

  test("shows every node with its sessions, and attaches through the relay to a session on another machine", async () => {
    const a = await dev1.launch(["sleep", "600"], ["--name", "on-web-1"]);
    const b = await dev2.launch(["bash", "--norc", "--noprofile"], ["--name", "shell-2", "--env", "PS1=$ "]);
    const page = await signIn();
    await page.waitForSelector('body[data-signed-in="true"]');
    for (const [n, name, id] of [["web-1", "on-web-1", a], ["web-2", "shell-2", b]] as const) {
      await waitFor(async () => (await node(page, n).locator(".node-state").innerText()) === "online", `${n} online`);
      await waitFor(async () => (await node(page, n).locator(`tr[data-session="${id}"] td.name`).innerText()) === name, `${n}'s session`);
    }
    await screenshot(page, "web-relay-dashboard.png");
    await node(page, "web-2").locator(`tr[data-session="${b}"]`).getByRole("link", { name: "Attach" }).click();
    await waitFor(async () => (await termState(page)) === "attached", "the terminal to attach through the relay");
    await page.keyboard.type("echo via-relay-$((40+2)); tput cols\n");
    const screen = await waitScreen(page, (s) => /via-relay-42\n\d+/.test(s), "the command's output through the relay");
    expect(Number(/via-relay-42\n(\d+)/.exec(screen)![1])).toBe((await dev2.session(b)).cols);
    await page.keyboard.press("Control+b");
    await page.keyboard.press("d");
    await page.waitForSelector("table.sessions");
    await waitFor(async () => (await dev2.session(b)).attached_count === 0, "the detach");
  });

  test("a phone signs in with a code that a signed-in browser approves", async () => {
    const page = await signIn();
    await page.waitForSelector('body[data-signed-in="true"]');
    const phone = new Browser();
    await phone.start({ phone: true });
    try {
      const p2 = await phone.page();
      await p2.goto(`${relay.url}/`);
      await p2.getByRole("button", { name: "Sign in with a code" }).click();
      const code = await waitFor(async () => /^[A-Z2-9]{4}-[A-Z2-9]{4}$/.exec(await p2.locator(".user-code").innerText().catch(() => ""))?.[0], "a code");
      await page.locator("details.approve summary").click();
      await page.locator('details.approve input[name="user_code"]').fill(code);
      await page.locator("details.approve").getByRole("button", { name: "Approve" }).click();
      await p2.waitForSelector('body[data-signed-in="true"]', { timeout: 10_000 });
      await waitFor(async () => (await p2.locator('section.node[data-node="web-2"] .node-state').innerText().catch(() => "")) === "online", "the phone to see the nodes");
    } finally {
      await phone.close();
    }
  });

  test("a node that stops shows offline, with when it was last seen", async () => {
    const page = await signIn();
    await page.waitForSelector('body[data-signed-in="true"]');
    await waitFor(async () => (await node(page, "web-1").locator(".node-state").innerText()) === "online", "web-1 online");
    await dev1.ok(["stop"]);
    const state = await waitFor(async () => {
      const t = await node(page, "web-1").locator(".node-state").innerText();
      return t.startsWith("offline") ? t : undefined;
    }, "web-1 to show offline", 15_000);
    expect(state).toMatch(/^offline, last seen \d+s ago$/);
    expect(await node(page, "web-2").locator(".node-state").innerText()).toBe("online");
  });
});
