/**
 * Builds a release: one cw binary per platform (cross-compiled here with `bun build --compile`
 * via scripts/build.ts), ad-hoc signs the macOS ones (macho-sign.ts), checks each one, and writes
 * SHA256SUMS, VERSION and the Homebrew formula.
 *
 *   bun scripts/release/build-all.ts --version v0.1.0                 # all platforms
 *   bun scripts/release/build-all.ts --version v0.1.0 --platforms linux-x64 --out /tmp/rel
 *
 * Output (default dist/release/<version>/), laid out to be uploaded as-is as the release assets:
 *   cw-<version>-<platform>   the binaries
 *   SHA256SUMS                `sha256sum` format, signed next by scripts/release/sign.sh
 *   VERSION                   the tag; install.sh reads latest/download/VERSION to find "latest"
 *   homebrew/codewire.rb      the tap formula (only when all four Homebrew platforms are built)
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { inspectBinary, problems } from "./inspect";
import { adhocSign } from "./macho-sign";
import { assetName, PLATFORMS, type Platform, VERSION_RE } from "./platforms";

const ROOT = resolve(import.meta.dir, "../..");
const DEFAULT_BASE_URL = "https://github.com/codewiresh/codewire/releases";
const HOMEBREW_PLATFORMS = ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-x64"];

function fail(msg: string): never {
  console.error(`build-all: ${msg}`);
  process.exit(1);
}

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0 && !argv[i + 1]) fail(`--${name} needs a value`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const version = opt("version") ?? `v${pkg.version}`;
if (!VERSION_RE.test(version)) fail(`version ${JSON.stringify(version)} is not a tag like v1.2.3`);
const outDir = resolve(opt("out") ?? join(ROOT, "dist/release", version));
const baseUrl = (opt("base-url") ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
const wanted = opt("platforms")?.split(",").map((s) => s.trim()).filter(Boolean);
const platforms: Platform[] = wanted
  ? wanted.map((n) => PLATFORMS.find((p) => p.name === n) ?? fail(`unknown platform ${n}; known: ${PLATFORMS.map((p) => p.name).join(", ")}`))
  : PLATFORMS;

// Start from a clean release directory, but only ever delete files this script writes.
mkdirSync(outDir, { recursive: true });
for (const f of readdirSync(outDir)) {
  if (f.startsWith("cw-") || f === "SHA256SUMS" || f === "SHA256SUMS.asc" || f === "VERSION") rmSync(join(outDir, f));
}
rmSync(join(outDir, "homebrew"), { recursive: true, force: true });

const sums = new Map<string, string>();
const stage = mkdtempSync(join(tmpdir(), "cw-release-"));
try {
  for (const p of platforms) {
    // Each build gets its own directory: scripts/build.ts writes source maps beside the binary.
    const dir = join(stage, p.name);
    mkdirSync(dir);
    const built = join(dir, "cw");
    const proc = Bun.spawnSync(["bun", "scripts/build.ts", "--target", p.target, "--outfile", built, "--version", version], {
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    });
    if (proc.exitCode !== 0) fail(`building ${p.name} (${p.target}) failed with exit ${proc.exitCode}`);
    // Bun leaves darwin-x64 output with the runtime's original, now invalid signature.
    if (p.os === "darwin") writeFileSync(built, adhocSign(readFileSync(built)));
    const issues = problems(p, inspectBinary(built));
    if (issues.length) fail(`the ${p.name} binary ${issues.join("; ")}`);
    const name = assetName(version, p.name);
    copyFileSync(built, join(outDir, name));
    chmodSync(join(outDir, name), 0o755);
    sums.set(name, new Bun.CryptoHasher("sha256").update(readFileSync(built)).digest("hex"));
    console.log(`checked ${name}: ${p.os}/${p.arch}${p.musl ? "/musl" : ""}, embeds ${p.ptyLib}`);
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}

const names = [...sums.keys()].sort();
writeFileSync(join(outDir, "SHA256SUMS"), names.map((n) => `${sums.get(n)}  ${n}\n`).join(""));
writeFileSync(join(outDir, "VERSION"), `${version}\n`);

if (HOMEBREW_PLATFORMS.every((n) => sums.has(assetName(version, n)))) {
  const values: Record<string, string> = { VERSION: version.replace(/^v/, ""), TAG: version, BASE_URL: baseUrl };
  for (const n of HOMEBREW_PLATFORMS) values[`SHA256_${n.toUpperCase().replace("-", "_")}`] = sums.get(assetName(version, n))!;
  const template = readFileSync(join(ROOT, "deploy/homebrew/codewire.rb.tmpl"), "utf8");
  const formula = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (m, key: string) => values[key] ?? fail(`the Homebrew template uses unknown ${m}`));
  mkdirSync(join(outDir, "homebrew"));
  writeFileSync(join(outDir, "homebrew/codewire.rb"), formula);
  console.log(`wrote ${join(outDir, "homebrew/codewire.rb")}`);
} else {
  console.log(`skipped the Homebrew formula: it needs ${HOMEBREW_PLATFORMS.join(", ")}`);
}

console.log(`release ${version} in ${outDir}${existsSync(join(outDir, "SHA256SUMS")) ? " (next: scripts/release/sign.sh)" : ""}`);
