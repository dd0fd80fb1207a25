/**
 * install.sh against a local release server. The release is made by the real release scripts
 * (scripts/release/build-all.ts for this machine's platform only, to stay fast, and sign.sh) with
 * a throwaway GPG key, served by Bun.serve on 127.0.0.1, and installed into temp prefixes.
 * Each scenario is a directory on the server: the good release, and tampered copies of it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve, sep } from "node:path";
import { assetName, hostPlatform } from "../scripts/release/platforms";

const ROOT = resolve(import.meta.dir, "..");
const V1 = "v9.9.1";
const V2 = "v9.9.2";
const platform = hostPlatform().name;
const inCI = process.env.CI === "true";

let work: string;
let keyring: string; // the release key's GNUPGHOME
let attacker: string; // another key's GNUPGHOME
let server: ReturnType<typeof Bun.serve>;

function run(cmd: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const p = Bun.spawnSync(cmd, { cwd: opts.cwd ?? ROOT, env: { ...(process.env as Record<string, string>), ...opts.env }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function must(cmd: string[], opts?: Parameters<typeof run>[1]) {
  const r = run(cmd, opts);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function newKey(home: string, uid: string): string {
  mkdirSync(home, { mode: 0o700 });
  must(["gpg", "--batch", "--homedir", home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"]);
  const colons = must(["gpg", "--batch", "--homedir", home, "--with-colons", "--list-keys"]);
  return colons.split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9]!;
}

/** Copies a release directory into the served tree as scenario/download/<tag>, by hard link. */
function publish(scenario: string, tag: string, from: string, latest = V2): string {
  const dir = join(work, "www", scenario, "download", tag);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(from)) if (f !== "homebrew") linkSync(join(from, f), join(dir, f));
  mkdirSync(join(work, "www", scenario, "latest", "download"), { recursive: true });
  writeFileSync(join(work, "www", scenario, "latest", "download", "VERSION"), `${latest}\n`);
  return dir;
}

function replace(dir: string, name: string, content: Uint8Array | string) {
  rmSync(join(dir, name)); // a hard link: replace the entry, never write through it
  writeFileSync(join(dir, name), content);
}

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "cw-install-"));
  keyring = join(work, "gk");
  attacker = join(work, "ga");
  const fpr = newKey(keyring, "Codewire Test Release <release@example.invalid>");
  newKey(attacker, "Someone Else <attacker@example.invalid>");
  writeFileSync(join(work, "release-key.asc"), must(["gpg", "--batch", "--homedir", keyring, "--armor", "--export", fpr]));

  // Two releases, built by the release script and signed by sign.sh. One after the other: on a
  // fresh machine the first build downloads Bun's runtime for the target into a shared cache.
  const rel = (v: string) => join(work, "rel", v);
  for (const v of [V1, V2]) {
    must(["bun", "scripts/release/build-all.ts", "--version", v, "--platforms", platform, "--out", rel(v)]);
    must(["sh", "scripts/release/sign.sh", "--key", fpr, "--homedir", keyring, rel(v)]);
  }

  publish("good", V1, rel(V1));
  publish("good", V2, rel(V2));
  const asset = assetName(V2, platform);
  const tampered = new Uint8Array(readFileSync(join(rel(V2), asset)));
  const at = tampered.length - 100;
  tampered[at] = tampered[at]! ^ 0xff;

  // A binary changed after release: SHA256SUMS (genuine, signed) no longer matches it.
  replace(publish("tampered-binary", V2, rel(V2)), asset, tampered);
  // The binary changed and SHA256SUMS rewritten to match: only the signature can tell.
  const sums = publish("tampered-sums", V2, rel(V2));
  replace(sums, asset, tampered);
  replace(sums, "SHA256SUMS", `${sha256(tampered)}  ${asset}\n`);
  // Genuine files, but signed by a key that is not the release key.
  const badSig = publish("bad-signature", V2, rel(V2));
  rmSync(join(badSig, "SHA256SUMS.asc"));
  must(["gpg", "--batch", "--homedir", attacker, "--armor", "--detach-sign", "--output", join(badSig, "SHA256SUMS.asc"), join(badSig, "SHA256SUMS")]);

  const www = join(work, "www");
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = resolve(www, `.${decodeURIComponent(new URL(req.url).pathname)}`);
      if (!path.startsWith(www + sep) || !existsSync(path)) return new Response("not found", { status: 404 });
      return new Response(Bun.file(path));
    },
  });
});

afterAll(() => {
  server?.stop(true);
  for (const home of [keyring, attacker]) if (home) run(["gpgconf", "--homedir", home, "--kill", "all"]);
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Install {
  code: number;
  stderr: string;
  prefix: string;
  bin: string;
}

/**
 * Runs install.sh from a fresh temp prefix (or the given one) against a scenario on the server.
 * Asynchronous on purpose: the server lives in this process, so a blocking spawn would hang it.
 */
async function install(scenario: string, args: string[] = [], opts: { shell?: string; prefix?: string; env?: Record<string, string> } = {}): Promise<Install> {
  const prefix = opts.prefix ?? mkdtempSync(join(work, "prefix-"));
  const scratch = mkdtempSync(join(work, "tmp-"));
  const p = Bun.spawn([opts.shell ?? "sh", join(ROOT, "install.sh"), "--prefix", prefix, ...args], {
    cwd: work,
    env: {
      ...(process.env as Record<string, string>),
      CW_INSTALL_BASE_URL: `http://127.0.0.1:${server.port}/${scenario}`,
      CW_INSTALL_GPG_KEY: join(work, "release-key.asc"),
      TMPDIR: scratch,
      LC_ALL: "C", // gpg's messages, which the assertions read, in English
      ...opts.env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited, new Response(p.stdout).text()]);
  clearTimeout(timer);
  // Whatever happened, the installer's own temp files are gone.
  expect(readdirSync(scratch)).toEqual([]);
  return { code, stderr, prefix, bin: join(prefix, "bin", "cw") };
}

/** Nothing at all in prefix/bin: no cw and no staged leftovers. */
function expectNothingInstalled(r: Install) {
  expect(r.code).not.toBe(0);
  expect(existsSync(r.bin)).toBe(false);
  const bin = join(r.prefix, "bin");
  expect(existsSync(bin) ? readdirSync(bin) : []).toEqual([]);
}

function versionOf(bin: string): string {
  return must([bin, "--version"]).trim();
}

describe("install.sh", () => {
  test("is shellcheck-clean as POSIX sh", () => {
    if (!Bun.which("shellcheck")) {
      if (inCI) throw new Error("shellcheck is not installed");
      return console.warn("skipped: shellcheck is not installed");
    }
    const r = run(["shellcheck", "--shell=sh", "install.sh", "scripts/release/sign.sh"]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("trusts the key in GPG_PUBLIC_KEY.asc", () => {
    const script = readFileSync(join(ROOT, "install.sh"), "utf8");
    const block = script.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/)![0];
    expect(`${block}\n`).toBe(readFileSync(join(ROOT, "GPG_PUBLIC_KEY.asc"), "utf8").replace(/\n*$/, "\n"));
  });

  test("installs the latest release, verified, and the installed cw runs", async () => {
    const r = await install("good");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("verified the GPG signature");
    expect(r.stderr).toContain("verified the SHA256 checksum");
    expect(versionOf(r.bin)).toBe(`cw ${V2}`);
    expect(readdirSync(join(r.prefix, "bin"))).toEqual(["cw"]);
  });

  test("--version installs that release (under bash, as curl | bash does)", async () => {
    const r = await install("good", ["--version", V1], { shell: "bash" });
    expect(r.code).toBe(0);
    expect(versionOf(r.bin)).toBe(`cw ${V1}`);
  });

  test("--prefix=DIR creates DIR/bin and replaces an older cw there", async () => {
    const prefix = join(mkdtempSync(join(work, "p-")), "nested", "prefix");
    expect((await install("good", [`--version=${V1}`], { prefix })).code).toBe(0);
    expect(versionOf(join(prefix, "bin", "cw"))).toBe(`cw ${V1}`);
    expect((await install("good", [], { prefix })).code).toBe(0);
    expect(versionOf(join(prefix, "bin", "cw"))).toBe(`cw ${V2}`);
  });

  test("refuses a tampered binary", async () => {
    const r = await install("tampered-binary");
    expectNothingInstalled(r);
    expect(r.stderr).toContain(`checksum mismatch for ${assetName(V2, platform)}`);
  });

  test("refuses a tampered SHA256SUMS (its signature no longer matches)", async () => {
    const r = await install("tampered-sums");
    expectNothingInstalled(r);
    expect(r.stderr).toContain("does not verify against the Codewire release key");
    expect(r.stderr).toContain("BAD signature");
  });

  test("refuses a signature by another key", async () => {
    const r = await install("bad-signature");
    expectNothingInstalled(r);
    expect(r.stderr).toContain("does not verify against the Codewire release key");
    expect(r.stderr).toContain("No public key");
  });

  test("a refused upgrade leaves the installed cw as it was", async () => {
    const prefix = mkdtempSync(join(work, "prefix-"));
    expect((await install("good", ["--version", V1], { prefix })).code).toBe(0);
    const r = await install("tampered-binary", [], { prefix });
    expect(r.code).not.toBe(0);
    expect(readdirSync(join(prefix, "bin"))).toEqual(["cw"]);
    expect(versionOf(join(prefix, "bin", "cw"))).toBe(`cw ${V1}`);
  });

  test("without gpg it says so and still checks the checksum", async () => {
    // A PATH with everything this machine has except gpg.
    const path = join(work, "no-gpg-bin");
    mkdirSync(path, { recursive: true });
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (!dir || !existsSync(dir)) continue;
      for (const f of readdirSync(dir)) {
        if (/^gpg/.test(f) || existsSync(join(path, f))) continue;
        symlinkSync(join(dir, f), join(path, f));
      }
    }
    const good = await install("good", [], { env: { PATH: path } });
    expect(good.code).toBe(0);
    expect(good.stderr).toContain("gpg is not installed");
    expect(versionOf(good.bin)).toBe(`cw ${V2}`);
    const bad = await install("tampered-binary", [], { env: { PATH: path } });
    expectNothingInstalled(bad);
    expect(bad.stderr).toContain("checksum mismatch");
  });

  test("says exactly what failed for a missing release, a bad version and a bad option", async () => {
    const missing = await install("good", ["--version", "v0.0.0"]);
    expectNothingInstalled(missing);
    expect(missing.stderr).toContain("/download/v0.0.0/SHA256SUMS answered with an HTTP error");
    const badVersion = await install("good", ["--version", "1.2"]);
    expectNothingInstalled(badVersion);
    expect(badVersion.stderr).toContain('"1.2" is not a release version');
    const badOption = await install("good", ["--frobnicate"]);
    expectNothingInstalled(badOption);
    expect(badOption.stderr).toContain('unknown option "--frobnicate"');
    const noBuild = await install("good", [], { env: { CW_INSTALL_PLATFORM: platform === "linux-x64" ? "linux-arm64" : "linux-x64" } });
    expectNothingInstalled(noBuild);
    expect(noBuild.stderr).toContain("this release has no build for");
  });
});
