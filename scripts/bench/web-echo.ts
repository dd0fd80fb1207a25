/**
 * `bun scripts/bench/web-echo.ts` (issue 18): what the browser's terminal adds to typing and to
 * opening a session, against `cw attach` through the same relay.
 *
 * One relay, one node (web-1) connected to it, a second machine's CLI (web-2) that reaches web-1
 * through the relay as `cw attach web-1:<id>` does, and headless Chromium (/usr/bin/chromium,
 * playwright-core) signed in to the relay's web app with the admin token.
 *
 * Echo: the session runs `stty raw -echo; exec cat`, so each key goes to the program and comes
 * back as the program's own output on both paths (no line discipline echoing for us, no shell
 * redrawing a prompt). Keys 35-85 ms apart (a seeded PRNG), one at a time.
 *   - browser: timed in the page. t0 is a capture-phase keydown listener (performance.now());
 *     "ws.send" is when the page hands the key to its WebSocket (xterm.js's input path); "ws"
 *     when the page's WebSocket delivers the frame holding the byte; "in xterm.js" when the
 *     terminal has parsed it (term.write's callback, app/terminal.ts WRITTEN_EVENT: the page's
 *     equal of cw attach reading it, a terminal emulator's own drawing not counted on either
 *     side); "rows" when xterm.js's rows in the DOM show it (it draws in an animation frame);
 *     "painted" when that frame's main-thread work is done (a task posted from the rows'
 *     mutation runs then). The keys come from Playwright (CDP), whose own latency is before t0
 *     and not counted.
 *   - cw attach: we are its terminal (a PTY): the byte written into the master until it comes
 *     back out of it, as in latency.ts; a local `cw attach <id>` on web-1's socket is the floor.
 *   Target (issue 18): browser within 2 ms of cw attach through the relay; shown for "in
 *   xterm.js" and for "painted" (what a person sees, which cw attach's number leaves out).
 *   - browser floor: the same page instrument on a bare page echoing keys through a bare Bun
 *     WebSocket server in this process, adding each echo to a div's text: what Chromium itself
 *     takes to deliver and to paint an echo, cw and xterm.js no part of it.
 * Open: from navigating a signed-in tab to the session's page (#/t/web-1/<id>) until its rows
 * show the session's last line (performance.now() in the page, which starts at navigation),
 * against spawning `cw attach web-1:<id>` until that line comes out of its PTY, and against a
 * bare page holding those lines (the floor: what opening any tab takes this Chromium).
 * BENCH_SAMPLES sets the keys per path (default 150).
 */
import type { Page } from "playwright-core";
import { CW as CW_BIN, CwHome, RelayProcess, waitFor } from "../../test/helpers";
import { Browser, termState } from "../../test/web-helpers";
import { ECHO_PROGRAM, measureEcho } from "./latency";
import { BenchPty } from "./pty";
import { COLS, ROWS } from "./subjects";
import { prng, quantile } from "./util";

const SAMPLES = Number(process.env.BENCH_SAMPLES) > 0 ? Number(process.env.BENCH_SAMPLES) : 150;
const WARMUP = 10;
const OPENS = 10;
const KEYS = "xyz";
const MARKER = "painted-line-40";

/**
 * Installed in every page before its scripts: the timestamps the echo and open runs read back
 * (window.__bench). A string, as the web tests write page code: this project's types are not
 * the DOM's.
 */
const INSTRUMENT = `(() => {
  const b = { on: false, expected: 0, base: 0, key: 0, t0: [], sent: [], ws: [], written: [], dom: [], frame: [], painted: -1, wsOpen: -1, attached: -1 };
  window.__bench = b;
  addEventListener("keydown", (e) => {
    if (!b.on || e.key.length !== 1) return;
    b.expected++;
    b.key = e.key.charCodeAt(0);
    b.t0.push(performance.now());
  }, true);
  // The app's terminal has parsed a frame (app/terminal.ts WRITTEN_EVENT): the first after the
  // frame holding the key is the key's echo in the terminal's buffer.
  addEventListener("cw-written", () => {
    if (b.on && b.written.length < b.ws.length) b.written.push(performance.now());
  }, true);
  // A task posted while a frame is being made runs when that frame's main-thread work (style,
  // layout, paint, commit) is done: what xterm.js drew in its animation frame is then painted,
  // as far as the page can know (raster and display are the compositor's, off this thread).
  const chan = new MessageChannel();
  chan.port1.onmessage = () => { if (b.frame.length < b.dom.length) b.frame.push(performance.now()); };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("open", () => { if (b.wsOpen < 0) b.wsOpen = performance.now(); });
      // Added before the app sets onmessage, so it runs first.
      this.addEventListener("message", (ev) => {
        if (b.attached < 0 && typeof ev.data === "string" && ev.data.includes('"Attached"')) b.attached = performance.now();
        if (!b.on || b.ws.length >= b.expected || typeof ev.data === "string") return;
        if (new Uint8Array(ev.data).includes(b.key)) b.ws.push(performance.now());
      });
    }
    send(data) {
      if (b.on && b.sent.length < b.expected && typeof data !== "string") b.sent.push(performance.now());
      super.send(data);
    }
  };
  const shown = () => (document.querySelector(".xterm-rows")?.textContent ?? "").replace(/[\\s\\u00a0]/g, "");
  window.__shown = shown;
  new MutationObserver(() => {
    if (b.painted < 0 && shown().includes(${JSON.stringify(MARKER)})) b.painted = performance.now();
    if (b.on && b.dom.length < b.expected && shown().length - b.base >= b.expected) {
      b.dom.push(performance.now());
      chan.port2.postMessage(0);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
})()`;

async function signIn(browser: Browser, relay: RelayProcess): Promise<Page> {
  const page = await browser.page();
  await page.addInitScript(INSTRUMENT);
  await page.goto(`${relay.url}/`);
  await page.waitForSelector('body[data-signed-in="false"]');
  await page.locator('input[name="token"]').fill(relay.adminToken!);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForSelector('body[data-signed-in="true"]');
  return page;
}

type Bench = { t0: number[]; sent: number[]; ws: number[]; written: number[]; dom: number[]; frame: number[]; painted: number; wsOpen: number; attached: number; base: number; on: boolean };
// Page code as functions (the app's CSP forbids eval, which Playwright's string predicates use);
// globalThis is the page's window there.
const bench = (page: Page) => page.evaluate(() => (globalThis as unknown as { __bench: Bench }).__bench);

type Echo = { sent: number[]; ws: number[]; written: number[]; dom: number[]; frame: number[]; seen: string };

/** Keys typed in the page; returns each step's latency (ms) after the warm-up. */
async function browserEcho(page: Page): Promise<Echo> {
  // Whether Chromium may treat the page as in the background (throttled timers and frames).
  const seen = await page.evaluate(() => {
    const w = globalThis as unknown as { __bench: Bench; __shown: () => string; document: { visibilityState: string; hasFocus(): boolean } };
    w.__bench.base = w.__shown().length;
    w.__bench.on = true;
    return `${w.document.visibilityState}, ${w.document.hasFocus() ? "focused" : "not focused"}`;
  });
  const rand = prng(0xec40);
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    await Bun.sleep(35 + rand() * 50); // pacing like a person typing, not a wait for anything
    await page.keyboard.press(KEYS[i % KEYS.length]!);
    await page.waitForFunction((n) => (globalThis as unknown as { __bench: Bench }).__bench.frame.length >= n, i + 1, { timeout: 5_000, polling: 5 });
  }
  const b = await bench(page);
  const lat = (xs: number[]) => xs.map((x, k) => x - b.t0[k]!).slice(WARMUP);
  return { sent: lat(b.sent), ws: lat(b.ws), written: lat(b.written), dom: lat(b.dom), frame: lat(b.frame), seen };
}

/** From spawning `cw attach` in a PTY until the marker line comes out of it. */
function attachOpen(env: Record<string, string>, target: string): number {
  const t0 = performance.now();
  const p = new BenchPty({ cmd: [CW_BIN, "attach", target], env, cols: COLS, rows: ROWS });
  try {
    let seen = "";
    while (!seen.includes(MARKER)) {
      const r = p.read(Math.max(1, t0 + 15_000 - performance.now()));
      if (r.kind !== "data") throw new Error(`cw attach ${target} showed no ${MARKER} (${r.kind})`);
      seen = (seen + Buffer.from(p.buf.subarray(0, r.n)).toString("latin1")).slice(-4096);
    }
    return performance.now() - t0;
  } finally {
    p.close();
  }
}

/**
 * The browser's own floor: a page whose key handler sends the key over a WebSocket to a bare Bun
 * echo server in this process, timed by the same in-page instrument. What it takes is Chromium's
 * (renderer, network process, IPC), not cw's. At /page, a page holding the 40 lines the open
 * test paints: Chromium's own time to open a tab and show them.
 */
function floorServer(): { url: string; stop: () => void } {
  const lines = Array.from({ length: 39 }, (_, i) => `line ${i + 1} of a screen to paint<br>`).join("");
  const page = `<!doctype html><body><div class="xterm-rows">${lines}${MARKER}</div></body>`;
  const html = `<!doctype html><body><script>
    const ws = new WebSocket("ws://" + location.host + "/ws"); ws.binaryType = "arraybuffer";
    const rows = document.createElement("div"); rows.className = "xterm-rows"; document.body.append(rows);
    addEventListener("keydown", (e) => { if (e.key.length === 1) ws.send(new TextEncoder().encode(e.key)); });
    ws.onmessage = (e) => { rows.textContent += new TextDecoder().decode(e.data); };
  </script></body>`;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      const path = new URL(req.url).pathname;
      if (path === "/ws") return srv.upgrade(req) ? undefined : new Response("no", { status: 400 });
      return new Response(path === "/page" ? page : html, { headers: { "content-type": "text/html" } });
    },
    websocket: { message: (ws, m) => void ws.send(m) },
  });
  return { url: `http://127.0.0.1:${server.port}/`, stop: () => server.stop(true) };
}

const relay = new RelayProcess();
const web1 = new CwHome({ TERM: "xterm-256color" });
const web2 = new CwHome({ TERM: "xterm-256color" });
const browser = new Browser();
try {
  await relay.start();
  await web1.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "web-1"]);
  await web2.ok(["setup", relay.url, "--token", relay.adminToken!, "--name", "web-2"]);
  const echoId = await web1.launch(ECHO_PROGRAM, ["--name", "echo"]);
  const shownId = await web1.launch(["sh", "-c", `i=1; while [ $i -lt 40 ]; do echo "line $i of a screen to paint"; i=$((i+1)); done; echo ${MARKER}; exec sleep 600`], ["--name", "shown"]);
  await waitFor(async () => (await web1.ok(["logs", String(shownId)])).includes(MARKER), "the screen to paint");

  // cw attach first (it blocks this process while it types), then the browser, on the same session.
  const attach = measureEcho(
    [
      { name: "cw attach web-1:<id> (relay)", cmd: [CW_BIN, "attach", `web-1:${echoId}`], env: web2.env, paints: true },
      { name: "cw attach <id> (local socket)", cmd: [CW_BIN, "attach", String(echoId)], env: web1.env, paints: true },
    ],
    { warmup: WARMUP, samples: SAMPLES, gapMin: 35, gapMax: 85, seed: 0xec40 },
  );

  await browser.start();
  const page = await signIn(browser, relay);
  await page.goto(`${relay.url}/#/t/web-1/${echoId}`);
  await waitFor(async () => (await termState(page)) === "attached", "the browser's terminal to attach");
  const echo = await browserEcho(page);
  await page.close();
  const floor = floorServer();
  const floorPage = await browser.page();
  await floorPage.addInitScript(INSTRUMENT);
  await floorPage.goto(floor.url);
  await floorPage.waitForFunction(() => (globalThis as unknown as { __bench: Bench }).__bench.wsOpen >= 0);
  const bare = await browserEcho(floorPage);
  await floorPage.close();

  // Opening: a fresh tab each time, signed in by its cookie.
  const opens: number[] = [];
  const phases: Record<"html" | "js" | "dcl" | "me" | "wsOpen" | "attached", number[]> = { html: [], js: [], dcl: [], me: [], wsOpen: [], attached: [] };
  for (let i = 0; i < OPENS; i++) {
    const tab = await browser.page();
    await tab.addInitScript(INSTRUMENT);
    await tab.goto(`${relay.url}/#/t/web-1/${shownId}`);
    await tab.waitForFunction(() => (globalThis as unknown as { __bench: Bench }).__bench.painted >= 0, undefined, { timeout: 15_000, polling: 10 });
    const b = await bench(tab);
    opens.push(b.painted);
    phases.wsOpen.push(b.wsOpen);
    phases.attached.push(b.attached);
    const t = await tab.evaluate(() => {
      type Entry = { name: string; responseEnd: number; domContentLoadedEventEnd: number };
      const nav = performance.getEntriesByType("navigation" as never)[0] as unknown as Entry;
      const res = performance.getEntriesByType("resource" as never) as unknown as Entry[];
      const end = (path: string) => res.find((e) => new URL(e.name).pathname.endsWith(path))?.responseEnd ?? -1;
      return { html: nav.responseEnd, js: end(".js"), dcl: nav.domContentLoadedEventEnd, me: end("/web/me") };
    });
    for (const k of ["html", "js", "dcl", "me"] as const) phases[k].push(t[k]);
    await tab.close();
  }
  const attachOpens = Array.from({ length: OPENS }, () => attachOpen(web2.env, `web-1:${shownId}`));
  const floorOpens: number[] = [];
  for (let i = 0; i < OPENS; i++) {
    const tab = await browser.page();
    await tab.addInitScript(INSTRUMENT);
    await tab.goto(`${floor.url}page`);
    await tab.waitForFunction(() => (globalThis as unknown as { __bench: Bench }).__bench.painted >= 0, undefined, { timeout: 15_000, polling: 10 });
    floorOpens.push((await bench(tab)).painted);
    await tab.close();
  }
  floor.stop();

  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const relayAttach = attach["cw attach web-1:<id> (relay)"]!;
  console.log(`web terminal vs cw attach, through one relay on loopback: ${SAMPLES} keys each, 35-85 ms apart; ${OPENS} opens`);
  console.log(`${"keystroke echo".padEnd(36)} ${"p50".padStart(9)} ${"p99".padStart(9)} ${"p50 - attach".padStart(13)}`);
  const row = (name: string, p50: number, p99: number) => console.log(`${name.padEnd(36)} ${ms(p50).padStart(9)} ${ms(p99).padStart(9)} ${`${p50 - relayAttach.p50 >= 0 ? "+" : ""}${ms(p50 - relayAttach.p50)}`.padStart(13)}`);
  for (const [name, r] of Object.entries(attach)) row(name, r.p50, r.p99);
  row("browser, key to ws.send (in page)", quantile(echo.sent, 0.5), quantile(echo.sent, 0.99));
  row("browser, frame at the page's ws", quantile(echo.ws, 0.5), quantile(echo.ws, 0.99));
  row("browser, in xterm.js (write callback)", quantile(echo.written, 0.5), quantile(echo.written, 0.99));
  row("browser, in xterm.js's rows (DOM)", quantile(echo.dom, 0.5), quantile(echo.dom, 0.99));
  row("browser, painted (that frame done)", quantile(echo.frame, 0.5), quantile(echo.frame, 0.99));
  row("browser floor (bare Bun ws echo)", quantile(bare.ws, 0.5), quantile(bare.ws, 0.99));
  row("browser floor, painted (text in a div)", quantile(bare.frame, 0.5), quantile(bare.frame, 0.99));
  console.log(`the page while typing: ${echo.seen}; the floor's: ${bare.seen}`);
  for (const [what, xs] of [["in xterm.js", echo.written], ["painted", echo.frame]] as const) {
    const gap = (p: number) => quantile(xs, p) - (p === 0.5 ? relayAttach.p50 : relayAttach.p99);
    const sign = (x: number) => `${x >= 0 ? "+" : ""}${ms(x)}`;
    console.log(`target: browser ${what} within 2 ms of cw attach through the relay: p50 ${gap(0.5) <= 2 ? "met" : "NOT met"} (${sign(gap(0.5))}), p99 ${gap(0.99) <= 2 ? "met" : "NOT met"} (${sign(gap(0.99))})`);
  }
  console.log(`${"open a session until its screen shows".padEnd(36)} ${"p50".padStart(9)} ${"max".padStart(9)} ${"ratio".padStart(13)}`);
  console.log(`${"cw attach web-1:<id> (relay)".padEnd(36)} ${ms(quantile(attachOpens, 0.5)).padStart(9)} ${ms(Math.max(...attachOpens)).padStart(9)} ${"1.00".padStart(13)}`);
  console.log(`${"browser tab, #/t/web-1/<id>".padEnd(36)} ${ms(quantile(opens, 0.5)).padStart(9)} ${ms(Math.max(...opens)).padStart(9)} ${(quantile(opens, 0.5) / quantile(attachOpens, 0.5)).toFixed(2).padStart(13)}`);
  console.log(`${"browser floor: a page of those lines".padEnd(36)} ${ms(quantile(floorOpens, 0.5)).padStart(9)} ${ms(Math.max(...floorOpens)).padStart(9)} ${(quantile(floorOpens, 0.5) / quantile(attachOpens, 0.5)).toFixed(2).padStart(13)}`);
  const p50 = (xs: number[]) => ms(quantile(xs, 0.5));
  console.log(`  browser tab's way there (p50, from navigation): html ${p50(phases.html)}, script ${p50(phases.js)}, page loaded ${p50(phases.dcl)}, /web/me ${p50(phases.me)}, WebSocket open ${p50(phases.wsOpen)}, Attached ${p50(phases.attached)}, rows painted ${p50(opens)}`);
} finally {
  await browser.close();
  await web1.cleanup();
  await web2.cleanup();
  await relay.cleanup();
}
process.exit(0);
