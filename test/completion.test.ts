/**
 * `cw completion`: the scripts cover the command table and each command's flags, and they
 * work — bash by calling the completion function as bash would, fish through `complete -C`,
 * zsh by a syntax check (zsh and fish only where installed).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { COMMANDS } from "../src/cli/main";
import { CwHome, shq } from "./helpers";

let cw: CwHome;
const scripts: Record<string, string> = {};

beforeAll(async () => {
  cw = new CwHome();
  for (const shell of ["bash", "zsh", "fish"]) {
    scripts[shell] = await cw.ok(["completion", shell]);
    writeFileSync(cw.path(`cw.${shell}`), scripts[shell]!);
  }
});
afterAll(async () => {
  await cw.cleanup();
});

/** What bash offers for the words typed so far (the last one being completed). */
function bashComplete(...words: string[]): string[] {
  const line = words.map(shq).join(" ");
  const p = Bun.spawnSync(
    ["bash", "--norc", "-c", `source ${shq(cw.path("cw.bash"))}; COMP_WORDS=(cw ${line}); COMP_CWORD=${words.length}; _cw; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { cwd: cw.dir, stdout: "pipe", stderr: "pipe" },
  );
  expect(p.stderr.toString()).toBe("");
  return p.stdout.toString().split("\n").filter(Boolean).sort();
}

async function flagsOf(name: string): Promise<string[]> {
  const cmd = (await COMMANDS[name]!.load()).default;
  const out = ["--help", "-h"];
  for (const [n, a] of Object.entries(cmd.args as Record<string, { type?: string; alias?: string | string[] }>)) {
    if (a.type === "positional") continue;
    out.push(`--${n}`, ...(Array.isArray(a.alias) ? a.alias : a.alias ? [a.alias] : []).map((x) => `-${x}`));
  }
  return out.sort();
}

describe("cw completion", () => {
  test("bash completes every command, and each command's own flags", async () => {
    expect(bashComplete("")).toEqual([...Object.keys(COMMANDS), "--help", "--version"].sort());
    for (const name of Object.keys(COMMANDS)) {
      expect(bashComplete(name, "-")).toEqual(await flagsOf(name));
    }
    expect(bashComplete("lis")).toEqual(["list", "listen"]);
  });

  test("bash completes fixed values, directories with spaces, and the program after --", () => {
    expect(bashComplete("completion", "")).toEqual(["bash", "fish", "zsh"]);
    expect(bashComplete("service", "")).toEqual(["install", "status", "uninstall"]);
    expect(bashComplete("service", "install", "--system", "")).toEqual(["launchd", "systemd"]);
    mkdirSync(cw.path("dirs", "with space"), { recursive: true });
    mkdirSync(cw.path("dirs", "plain"), { recursive: true });
    expect(bashComplete("launch", "--dir", "dirs/")).toEqual(["dirs/plain", "dirs/with space"]);
    expect(bashComplete("launch", "--", "bas")).toContain("bash");
  });

  test("zsh and fish scripts parse, and fish offers commands and flags", () => {
    for (const shell of ["zsh", "fish"]) {
      if (!Bun.which(shell)) {
        console.warn(`skipped the ${shell} check: ${shell} is not installed`);
        continue;
      }
      const p = Bun.spawnSync([shell, "-n", cw.path(`cw.${shell}`)], { stdout: "pipe", stderr: "pipe" });
      expect(p.stderr.toString()).toBe("");
      expect(p.exitCode).toBe(0);
    }
    for (const name of Object.keys(COMMANDS)) {
      expect(scripts.zsh).toContain(`'${name}:`);
      expect(scripts.fish).toContain(`-a ${name} `);
    }
    if (Bun.which("fish")) {
      const ask = (line: string) =>
        Bun.spawnSync(["fish", "--no-config", "-c", `source ${shq(cw.path("cw.fish"))}; complete -C ${shq(line)}`], { stdout: "pipe" })
          .stdout.toString()
          .split("\n")
          .map((l) => l.split("\t")[0])
          .filter(Boolean);
      expect(ask("cw lau")).toEqual(["launch"]);
      expect(ask("cw launch --d")).toEqual(["--dir"]);
      expect(ask("cw completion ").sort()).toEqual(["bash", "fish", "zsh"]);
    }
  });

  test("an unknown shell is a usage error that lists the shells", async () => {
    const r = await cw.run(["completion", "tcsh"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bash, zsh, fish");
  });
});
