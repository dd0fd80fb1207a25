/**
 * The release platforms: the name used in asset file names (and by install.sh), the Bun compile
 * target, and which bun-pty native library the binary must carry.
 *
 * x64 Linux builds use Bun's "baseline" CPU level: the default one needs AVX2, which some VMs
 * and older servers lack, and cw is I/O-bound, so compatibility wins over SIMD speed.
 *
 * Linux builds carry both the glibc and the musl library of their architecture because
 * src/node/pty/library.ts picks between them at run time; `ptyLib` is the one this build is
 * expected to load.
 */
export interface Platform {
  name: string;
  target: string;
  os: "linux" | "darwin";
  arch: "x64" | "arm64";
  musl: boolean;
  ptyLib: string;
}

export const PLATFORMS: Platform[] = [
  { name: "linux-x64", target: "bun-linux-x64-baseline", os: "linux", arch: "x64", musl: false, ptyLib: "librust_pty.so" },
  { name: "linux-arm64", target: "bun-linux-arm64", os: "linux", arch: "arm64", musl: false, ptyLib: "librust_pty_arm64.so" },
  { name: "linux-x64-musl", target: "bun-linux-x64-baseline-musl", os: "linux", arch: "x64", musl: true, ptyLib: "librust_pty_musl.so" },
  { name: "linux-arm64-musl", target: "bun-linux-arm64-musl", os: "linux", arch: "arm64", musl: true, ptyLib: "librust_pty_arm64_musl.so" },
  { name: "darwin-x64", target: "bun-darwin-x64", os: "darwin", arch: "x64", musl: false, ptyLib: "librust_pty.dylib" },
  { name: "darwin-arm64", target: "bun-darwin-arm64", os: "darwin", arch: "arm64", musl: false, ptyLib: "librust_pty_arm64.dylib" },
];

/** Every bun-pty library a release may embed (the Windows DLLs never should). */
export const ALL_PTY_LIBS = [
  "librust_pty.so",
  "librust_pty_musl.so",
  "librust_pty_arm64.so",
  "librust_pty_arm64_musl.so",
  "librust_pty.dylib",
  "librust_pty_arm64.dylib",
  "rust_pty.dll",
  "rust_pty_arm64.dll",
];

/** The libraries a platform's binary may carry: its own plus, on Linux, its libc sibling. */
export function allowedLibs(p: Platform): string[] {
  if (p.os === "darwin") return [p.ptyLib];
  return p.arch === "arm64" ? ["librust_pty_arm64.so", "librust_pty_arm64_musl.so"] : ["librust_pty.so", "librust_pty_musl.so"];
}

/** The platform of the machine running this script (used by tests to build only what runs here). */
export function hostPlatform(): Platform {
  const musl = process.platform === "linux" && isMuslHost();
  const found = PLATFORMS.find((p) => p.os === process.platform && p.arch === process.arch && p.musl === musl);
  if (!found) throw new Error(`no release platform for ${process.platform}-${process.arch}${musl ? "-musl" : ""}`);
  return found;
}

function isMuslHost(): boolean {
  // Bun reports the libc it was built against; glibc builds expose glibcVersionRuntime.
  const report = (process as unknown as { report?: { getReport(): { header?: { glibcVersionRuntime?: string } } } }).report;
  return !report?.getReport().header?.glibcVersionRuntime;
}

export function assetName(version: string, platform: string): string {
  return `cw-${version}-${platform}`;
}

/** Release tags look like v1.2.3 or v1.2.3-rc.1; install.sh accepts the same shape. */
export const VERSION_RE = /^v\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/;
