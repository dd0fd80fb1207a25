/**
 * `cw service`: the files it writes (checked with systemd-analyze and xmllint when present) and
 * the systemctl/launchctl/loginctl commands it runs, recorded by stand-ins placed first on PATH.
 * No real service manager is touched. HOME and XDG_CONFIG_HOME are temp dirs whose names need
 * quoting in both formats.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CW, CwHome } from "./helpers";

const UNIT = "codewire-node.service";
/** The structure of a property list (what Apple's PropertyList-1.0 DTD says), for xmllint. */
const PLIST_DTD = `<!ENTITY % plistObject "(array | data | date | dict | real | integer | string | true | false)">
<!ELEMENT plist %plistObject;>
<!ATTLIST plist version CDATA "1.0">
<!ELEMENT array (%plistObject;)*>
<!ELEMENT dict (key, %plistObject;)*>
<!ELEMENT key (#PCDATA)>
<!ELEMENT string (#PCDATA)>
<!ELEMENT data (#PCDATA)>
<!ELEMENT date (#PCDATA)>
<!ELEMENT true EMPTY>
<!ELEMENT false EMPTY>
<!ELEMENT real (#PCDATA)>
<!ELEMENT integer (#PCDATA)>
`;
let root: string;
let cw: CwHome;
let home: string;
let fakeBin: string;
let callLog: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "cw-service-"));
  home = join(root, "home a&b <x> 100%");
  mkdirSync(home);
  // Stand-ins for the service managers: record each call; FAKE_FAIL makes them fail like a
  // machine without a user session bus.
  fakeBin = join(root, "bin");
  mkdirSync(fakeBin);
  callLog = join(root, "calls.log");
  for (const tool of ["systemctl", "loginctl", "launchctl"]) {
    const script = `#!/bin/sh
echo "${tool} $*" >> "$FAKE_LOG"
if [ -n "$FAKE_FAIL" ]; then echo "Failed to connect to bus: No medium found" >&2; exit 1; fi
case "$*" in *is-enabled*) echo enabled ;; *is-active*) echo active ;; esac
`;
    writeFileSync(join(fakeBin, tool), script);
    chmodSync(join(fakeBin, tool), 0o755);
  }
  cw = new CwHome({ HOME: home, XDG_CONFIG_HOME: join(home, "cfg"), PATH: `${fakeBin}:${process.env.PATH}`, FAKE_LOG: callLog, USER: "cwtest" });
});

afterAll(async () => {
  await cw.cleanup();
  rmSync(root, { recursive: true, force: true });
});

function calls(): string[] {
  if (!existsSync(callLog)) return [];
  const lines = readFileSync(callLog, "utf8").trim().split("\n").filter(Boolean);
  rmSync(callLog);
  return lines;
}

const unitPath = () => join(home, "cfg", "systemd", "user", UNIT);
const plistPath = () => join(home, "Library", "LaunchAgents", "sh.codewire.node.plist");

describe("cw service (systemd)", () => {
  test("--dry-run prints the unit and the commands, and changes nothing", async () => {
    const out = await cw.ok(["service", "install", "--dry-run"]);
    expect(out).toContain(`would write ${unitPath()}`);
    expect(out).toContain(`ExecStart="${CW}" node`);
    expect(out).toContain("systemctl --user enable --now codewire-node.service");
    expect(out).toContain("loginctl enable-linger");
    expect(existsSync(unitPath())).toBe(false);
    expect(calls()).toEqual([]);
  });

  test("install writes a valid, hardened unit and enables it", async () => {
    const out = await cw.ok(["service", "install"]);
    expect(out).toContain(`wrote ${unitPath()}`);
    expect(calls()).toEqual(["systemctl --user daemon-reload", `systemctl --user enable --now ${UNIT}`, "loginctl enable-linger"]);
    const unit = readFileSync(unitPath(), "utf8");
    expect(unit).toContain(`ExecStart="${CW}" node`);
    // % is a specifier character in units, so the data dir's % is doubled.
    expect(unit).toContain(`Environment="CODEWIRE_HOME=${cw.dir}"`);
    expect(unit).toContain("NoNewPrivileges=yes");
    expect(unit).toContain("WantedBy=default.target");
    expect(unit).not.toMatch(/@[A-Z_]+@/);
    if (Bun.which("systemd-analyze")) {
      // A user-mode check needs a runtime dir; any complaint (unknown key, bad value, missing
      // binary) is printed, while the exit status stays 0, so the output must be empty.
      const runtime = mkdtempSync(join(root, "rt-"));
      const p = Bun.spawnSync(["systemd-analyze", "--user", "verify", unitPath()], { env: { ...process.env, XDG_RUNTIME_DIR: runtime, HOME: home }, stdout: "pipe", stderr: "pipe" });
      expect(p.stdout.toString() + p.stderr.toString()).toBe("");
      expect(p.exitCode).toBe(0);
    }
  });

  test("status shows the file, the manager's view and the node", async () => {
    const out = await cw.ok(["service", "status"]);
    calls();
    expect(out).toContain(`${unitPath()} (installed)`);
    expect(out).toContain("enabled, active");
    expect(out).toContain(`not running in ${cw.dir}`);
  });

  test("a node already running is left alone: the service is enabled for next time", async () => {
    await cw.ok(["start"]);
    try {
      const out = await cw.ok(["service", "install", "--no-linger"]);
      expect(out).toContain("already running");
      expect(calls()).toEqual(["systemctl --user daemon-reload", `systemctl --user enable ${UNIT}`]);
    } finally {
      await cw.ok(["stop"]);
    }
  });

  test("uninstall disables it and removes the file", async () => {
    const out = await cw.ok(["service", "uninstall"]);
    expect(out).toContain(`removed ${unitPath()}`);
    expect(calls()).toEqual([`systemctl --user disable --now ${UNIT}`, "systemctl --user daemon-reload"]);
    expect(existsSync(unitPath())).toBe(false);
    expect(await cw.ok(["service", "uninstall"])).toContain("not installed");
  });

  test("without a user session it says what failed and how to get by", async () => {
    const r = await cw.run(["service", "install", "--no-linger"], { env: { FAKE_FAIL: "1" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("`systemctl --user daemon-reload` failed: Failed to connect to bus");
    expect(r.stderr).toContain("cw start");
    calls();
    expect((await cw.ok(["service", "uninstall", "--files-only"])).trim()).toBe(`removed ${unitPath()}`);
    expect(calls()).toEqual([]);
  });

  test("XDG_CONFIG_HOME decides where the unit goes", async () => {
    const other = mkdtempSync(join(root, "xdg-"));
    const out = await cw.ok(["service", "install", "--files-only"], { env: { XDG_CONFIG_HOME: other } });
    expect(out).toContain(join(other, "systemd", "user", UNIT));
    expect(existsSync(join(other, "systemd", "user", UNIT))).toBe(true);
  });

  test("refuses to run from source, where the unit would start bun", () => {
    const p = Bun.spawnSync(["bun", "src/main.ts", "service", "install", "--dry-run"], { cwd: resolve(import.meta.dir, ".."), env: cw.env, stdout: "pipe", stderr: "pipe" });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toContain("installed cw binary");
  });
});

describe("cw service (launchd)", () => {
  test("install writes a well-formed agent plist and bootstraps it", async () => {
    const out = await cw.ok(["service", "install", "--system", "launchd"]);
    expect(out).toContain(`wrote ${plistPath()}`);
    const uid = process.getuid!();
    expect(calls()).toEqual([`launchctl bootout gui/${uid}/sh.codewire.node`, `launchctl bootstrap gui/${uid} ${plistPath()}`]);
    const plist = readFileSync(plistPath(), "utf8");
    expect(plist).toContain("<string>sh.codewire.node</string>");
    expect(plist).toContain(`<string>${CW}</string>`);
    // The home dir's & and < are escaped, not raw.
    expect(plist).toContain("home a&amp;b &lt;x&gt; 100%");
    expect(plist).not.toMatch(/@[A-Z_]+@/);
    if (Bun.which("xmllint")) {
      // Well-formed (no output at all), valid against the plist structure, and the values
      // read back unescaped. The network is off: the DOCTYPE's DTD is never fetched.
      const lint = Bun.spawnSync(["xmllint", "--nonet", "--noout", plistPath()], { stdout: "pipe", stderr: "pipe" });
      expect(lint.stdout.toString() + lint.stderr.toString()).toBe("");
      writeFileSync(join(root, "plist.dtd"), PLIST_DTD);
      expect(Bun.spawnSync(["xmllint", "--nonet", "--noout", "--dtdvalid", join(root, "plist.dtd"), plistPath()], { stdout: "pipe", stderr: "pipe" }).exitCode).toBe(0);
      const xpath = (q: string) => Bun.spawnSync(["xmllint", "--nonet", "--xpath", q, plistPath()], { stdout: "pipe", stderr: "pipe" }).stdout.toString().trim();
      expect(xpath('string(//dict/key[.="CODEWIRE_HOME"]/following-sibling::string[1])')).toBe(cw.dir);
      expect(xpath('string(//key[.="WorkingDirectory"]/following-sibling::string[1])')).toBe(home);
    }
  });

  test("uninstall boots it out and removes the plist", async () => {
    await cw.ok(["service", "uninstall", "--system", "launchd"]);
    expect(calls()).toEqual([`launchctl bootout gui/${process.getuid!()}/sh.codewire.node`]);
    expect(existsSync(plistPath())).toBe(false);
  });
});
