/**
 * Builds the single `cw` binary: `bun run build` → dist/cw for this machine.
 * `bun scripts/build.ts --target bun-linux-arm64 --outfile dist/cw-linux-arm64` cross-compiles.
 * The screen worker and the lane thread are extra entrypoints, so they are embedded in the binary;
 * so is the web app (src/web/app/), built for the browser first.
 */
import pkg from "../package.json" with { type: "json" };

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const version = opt("version") ?? process.env.CW_VERSION ?? pkg.version;
const target = opt("target");
const outfile = opt("outfile") ?? "dist/cw";

// Each build writes a source map per chunk next to the binary, named by content hash: clear the
// previous build's, or dist/ grows by a few hundred files every build.
const { existsSync, readdirSync, rmSync } = await import("node:fs");
const { dirname, join, resolve } = await import("node:path");
const outDir = dirname(outfile);
try {
  for (const f of readdirSync(outDir)) if (f.endsWith(".js.map")) rmSync(join(outDir, f));
} catch {
  /* no output directory yet */
}

// The web app (`cw web`, the relay's): built for the browser first, then carried inside the
// binary as a constant of its chunk, so nothing is served from files beside it or from a CDN.
const { buildWebApp } = await import("../src/web/build-app");
const web = await buildWebApp();

/**
 * `cw list` alone is answered by cli/quick-list.ts, which main.ts imports statically. With
 * splitting, the modules it shares with the rest of cw (paths, frame, libc, output, …) would be
 * in chunks of their own, and a compiled binary pays ~0.05 ms to load each one it needs: ~0.13 ms of a
 * ~4.3 ms `cw list` (median of 200 runs, 100 sessions). This gives the short path copies of those
 * modules, which only the entry imports, so they are bundled into the entry chunk (so is
 * sys/jit.ts, main.ts's other import). The copies call require() nowhere (process.getBuiltinModule
 * instead): a require() would load a chunk of the bundler's helpers.
 *
 * client/errors.ts stays shared: the ordinary error report (cli/errors.ts) knows its classes by
 * instanceof. Nothing else the short path throws or returns is checked by class outside it.
 */
function shortPathInEntry(): Bun.BunPlugin {
  const MARK = "?short-path";
  const entry = resolve("src/main.ts");
  const shared = new Set([resolve("src/client/errors.ts")]);
  // What main.ts imports statically: the short path, and the JIT switch every command reads.
  const ENTRY_IMPORTS = new Set(["./cli/quick-list", "./sys/jit"]);
  const file = (dir: string, spec: string) => {
    const p = resolve(dir, spec);
    return [`${p}.ts`, `${p}/index.ts`, p].find((f) => f.endsWith(".ts") && existsSync(f));
  };
  return {
    name: "short-path-in-entry",
    setup(build) {
      build.onResolve({ filter: /^\./ }, (args) => {
        const copy = args.importer.endsWith(MARK);
        if (!copy && !(args.importer === entry && ENTRY_IMPORTS.has(args.path))) return undefined;
        const f = file(dirname(copy ? args.importer.slice(0, -MARK.length) : args.importer), args.path);
        if (!f) throw new Error(`short path: cannot resolve ${args.path} from ${args.importer}`);
        return shared.has(f) ? { path: f } : { path: f + MARK, namespace: "short-path" };
      });
      build.onLoad({ filter: /.*/, namespace: "short-path" }, async (args) => ({ contents: await Bun.file(args.path.slice(0, -MARK.length)).text(), loader: "ts" }));
    },
  };
}

const result = await Bun.build({
  entrypoints: ["src/main.ts", "src/node/screen/worker.ts", "src/node/lane/worker.ts"],
  compile: {
    outfile,
    ...(target ? { target: target as Bun.Build.CompileTarget } : {}),
    // cw runs in users' project directories: their .env, bunfig.toml, tsconfig.json and
    // package.json are not ours. Autoloading .env leaked its variables into every session the
    // node started; the lookups also cost start-up time.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
    // The JIT 16 times more reluctant until a long-running process says it is ready (sys/jit.ts).
    jitPolicy: 16,
  },
  minify: true,
  // Precompiled bytecode: start-up no longer parses the whole bundle (cw --version ~37 → ~14 ms).
  bytecode: true,
  // One chunk per command (the table in cli/main.ts imports them lazily): a compiled binary pays
  // at start-up for every byte of the chunks it loads, so `cw list` must not load the node, the
  // MCP SDK or the terminal emulator (cw --version 11 → 7.5 ms).
  splitting: true,
  format: "esm",
  plugins: [shortPathInEntry()],
  sourcemap: "linked",
  define: { CW_VERSION: JSON.stringify(version), CW_WEB_ASSETS: JSON.stringify(web) },
});
if (!result.success) {
  for (const l of result.logs) console.error(l);
  process.exit(1);
}
console.log(`built ${outfile} (cw ${version}${target ? `, ${target}` : ""})`);
