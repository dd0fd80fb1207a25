/**
 * Locates bun-pty's native library (librust_pty) for this platform.
 *
 * In a `bun build --compile` binary the library must be embedded, so the require below uses an
 * inline ternary on process.platform/arch: Bun folds those at compile time for the target and
 * embeds only that target's file. The musl variant is selected at run time from /proc/self/maps.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

function isMusl(): boolean {
  if (process.platform !== "linux") return false;
  try {
    return readFileSync("/proc/self/maps", "utf8").includes("musl");
  } catch {
    return false;
  }
}

function embedded(musl: boolean): string | undefined {
  try {
    if (musl && process.platform === "linux") {
      // @ts-ignore require of a binary asset returns its path under Bun
      return require(`../../../node_modules/bun-pty/rust-pty/target/release/${process.arch === "arm64" ? "librust_pty_arm64_musl.so" : "librust_pty_musl.so"}`);
    }
    // @ts-ignore require of a binary asset returns its path under Bun
    return require(`../../../node_modules/bun-pty/rust-pty/target/release/${process.platform === "darwin" ? (process.arch === "arm64" ? "librust_pty_arm64.dylib" : "librust_pty.dylib") : process.arch === "arm64" ? "librust_pty_arm64.so" : "librust_pty.so"}`);
  } catch {
    return undefined;
  }
}

export function ptyLibraryPath(): string {
  const override = process.env.BUN_PTY_LIB;
  if (override && existsSync(override)) return override;
  const found = embedded(isMusl());
  if (found) return found;
  // Development fallback: resolve through the installed package.
  const pkg = dirname(require.resolve("bun-pty/package.json"));
  const name = process.platform === "darwin" ? "librust_pty.dylib" : "librust_pty.so";
  return join(pkg, "rust-pty", "target", "release", name);
}
