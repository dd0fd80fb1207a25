/**
 * The Claude Code skills: `cw skills install [--dev]` writes the skills embedded in the binary
 * (no network), and `.claude/skills/install.sh` installs both, from a checkout, through an
 * installed cw, or downloaded, as the seed shows it (`curl … | bash`). HOME is a temp dir.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CW } from "./helpers";

const REPO = resolve(import.meta.dir, "..");
const INSTALLER = join(REPO, ".claude/skills/install.sh");
const source = (name: string) => readFileSync(join(REPO, ".claude/skills", name, "SKILL.md"), "utf8");

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "cw-skills-"));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

async function run(argv: string[], opts: { env?: Record<string, string>; stdin?: string; cwd?: string } = {}) {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), HOME: home, NO_COLOR: "1", ...opts.env };
  delete env.CLAUDE_CONFIG_DIR;
  if (opts.env?.CLAUDE_CONFIG_DIR) env.CLAUDE_CONFIG_DIR = opts.env.CLAUDE_CONFIG_DIR;
  const p = Bun.spawn(argv, { env, cwd: opts.cwd ?? home, stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

const installed = (dir: string, name: string) => {
  const p = join(dir, name, "SKILL.md");
  return existsSync(p) ? readFileSync(p, "utf8") : undefined;
};

describe("cw skills install", () => {
  test("writes the embedded codewire skill to ~/.claude/skills; --dev adds codewire-dev", async () => {
    const dir = join(home, ".claude", "skills");
    const r = await run([CW, "skills", "install"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("installed codewire");
    expect(installed(dir, "codewire")).toBe(source("codewire"));
    expect(installed(dir, "codewire-dev")).toBeUndefined();
    expect((await run([CW, "skills", "install", "--dev"])).code).toBe(0);
    expect(installed(dir, "codewire")).toBe(source("codewire"));
    expect(installed(dir, "codewire-dev")).toBe(source("codewire-dev"));
  });

  test("--dir (relative to where it runs) and CLAUDE_CONFIG_DIR choose where; a bad action is a usage error", async () => {
    mkdirSync(join(home, "proj"));
    expect((await run([CW, "skills", "install", "--dir", ".claude/skills"], { cwd: join(home, "proj") })).code).toBe(0);
    expect(installed(join(home, "proj", ".claude", "skills"), "codewire")).toBe(source("codewire"));
    const config = join(home, "claude-config");
    expect((await run([CW, "skills", "install", "--dev"], { env: { CLAUDE_CONFIG_DIR: config } })).code).toBe(0);
    expect(installed(join(config, "skills"), "codewire-dev")).toBe(source("codewire-dev"));
    const bad = await run([CW, "skills", "remove"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("cw skills install");
  });
});

describe(".claude/skills/install.sh", () => {
  test("from a checkout: installs both skills from the files beside it", async () => {
    const r = await run(["sh", INSTALLER]);
    expect(r.code).toBe(0);
    const dir = join(home, ".claude", "skills");
    expect(installed(dir, "codewire")).toBe(source("codewire"));
    expect(installed(dir, "codewire-dev")).toBe(source("codewire-dev"));
  });

  test("piped into bash with cw on PATH: the skills embedded in cw, no download", async () => {
    const bin = join(home, "bin");
    mkdirSync(bin);
    symlinkSync(CW, join(bin, "cw"));
    // A base URL that cannot answer: a download would fail the install.
    const r = await run(["bash"], { stdin: readFileSync(INSTALLER, "utf8"), env: { PATH: `${bin}:/usr/bin:/bin`, CW_SKILLS_BASE_URL: "http://127.0.0.1:9/nothing" } });
    expect(r.code).toBe(0);
    const dir = join(home, ".claude", "skills");
    expect(installed(dir, "codewire")).toBe(source("codewire"));
    expect(installed(dir, "codewire-dev")).toBe(source("codewire-dev"));
  });

  test("piped into bash without cw: downloads both, and refuses a page that is not a skill", async () => {
    const served = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const m = /^\/skills\/(codewire(?:-dev)?)\/SKILL\.md$/.exec(new URL(req.url).pathname);
        if (m) return new Response(source(m[1]!));
        return new Response("<html>not here</html>", { status: 200 });
      },
    });
    try {
      const env = { PATH: "/usr/bin:/bin", CW_SKILLS_BASE_URL: `http://127.0.0.1:${served.port}/skills` };
      const r = await run(["bash"], { stdin: readFileSync(INSTALLER, "utf8"), env });
      expect(r.code).toBe(0);
      const dir = join(home, ".claude", "skills");
      expect(installed(dir, "codewire")).toBe(source("codewire"));
      expect(installed(dir, "codewire-dev")).toBe(source("codewire-dev"));
      const wrong = await run(["bash", "-s", "--", "--dir", join(home, "other")], { stdin: readFileSync(INSTALLER, "utf8"), env: { ...env, CW_SKILLS_BASE_URL: `http://127.0.0.1:${served.port}/elsewhere` } });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain("is not a skill file");
      expect(existsSync(join(home, "other"))).toBe(false);
    } finally {
      served.stop(true);
    }
  });

  test("passes shellcheck", async () => {
    if (!Bun.which("shellcheck")) return;
    const r = await run(["shellcheck", "-s", "sh", INSTALLER]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
