/**
 * For the web app's tests: `cw web` as a subprocess, and Debian's Chromium driven by
 * playwright-core with a fresh profile per test. What a person sees in the browser terminal is
 * read from xterm.js's rows in the page.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { CW, type CwHome, capture, waitFor } from "./helpers";

export const CHROMIUM = "/usr/bin/chromium";
/** Screenshots the tests keep (not in git: dist/ is ignored). */
export const ARTIFACTS = resolve(import.meta.dir, "../dist/test-artifacts");

export class WebProcess {
  proc?: ReturnType<typeof Bun.spawn>;
  url = "";
  link = "";

  constructor(private readonly home: CwHome) {}

  async start(): Promise<void> {
    const proc = Bun.spawn([CW, "web", "--listen", "127.0.0.1:0"], { env: this.home.env, cwd: this.home.dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.proc = proc;
    const out = capture(proc.stdout as ReadableStream<Uint8Array>);
    const err = capture(proc.stderr as ReadableStream<Uint8Array>);
    this.link = await waitFor(() => {
      if (proc.exitCode !== null) throw new Error(`cw web exited ${proc.exitCode}: ${err.text}`);
      return /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out.text)?.[1];
    }, "cw web to print its link");
    this.url = new URL(this.link).origin;
  }

  async stop(): Promise<void> {
    this.proc?.kill("SIGTERM");
    await this.proc?.exited;
  }
}

/** A browser of its own (own profile, own process); close() ends it and removes the profile. */
export class Browser {
  readonly profile = mkdtempSync(join(tmpdir(), "cw-chromium-"));
  context!: BrowserContext;
  /** What the page's Content-Security-Policy blocked, as Chromium reports it on the console. */
  readonly blocked: string[] = [];

  /** `phone`: a phone's screen, touch and no mouse. */
  async start(opts: { phone?: boolean } = {}): Promise<void> {
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: opts.phone ? { width: 390, height: 740 } : { width: 1100, height: 700 },
      ...(opts.phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
    });
  }

  private used = false;

  /** A tab: the one the browser opened with, then new ones. */
  async page(): Promise<Page> {
    const first = this.used ? undefined : this.context.pages()[0];
    this.used = true;
    const page = first ?? (await this.context.newPage());
    page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
    // What the page's CSP refused, as the page itself hears it (not all of it reaches the console).
    await page.addInitScript('window.__cspViolations = []; addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective));');
    page.on("console", (m) => {
      if (m.text().includes("Content Security Policy")) this.blocked.push(m.text());
    });
    return page;
  }

  async close(): Promise<void> {
    await this.context?.close().catch(() => {});
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/** The terminal's text as the page shows it (xterm.js draws each row as a div). */
export async function screenText(page: Page): Promise<string> {
  const text = await page.locator(".xterm-rows").innerText();
  return text.replace(/\u00a0/g, " ");
}

/** Waits until the terminal shows what `pred` looks for; fails with what it showed. */
export async function waitScreen(page: Page, pred: (screen: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
  let last = "";
  try {
    return await waitFor(async () => {
      last = await screenText(page);
      return pred(last) ? last : undefined;
    }, what, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- screen ---\n${last}`);
  }
}

/** The terminal view's state: connecting, attached, ended, closed, error. */
export function termState(page: Page): Promise<string | null> {
  return page.locator(".term-view").getAttribute("data-state");
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path });
  return path;
}
