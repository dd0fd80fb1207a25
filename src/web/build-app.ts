/**
 * Builds the browser app (app/main.ts, with xterm.js and its CSS) into one script and one
 * stylesheet. scripts/build.ts calls it and embeds both in the cw binary; a cw run from source
 * calls it on first use (assets.ts).
 */
import { join } from "node:path";

export interface WebAssets {
  js: string;
  css: string;
}

export async function buildWebApp(): Promise<WebAssets> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "app/main.ts"), join(import.meta.dir, "app/style.css")],
    target: "browser",
    // A classic script, not a module: Chromium keeps the compiled code of a classic script
    // beside its cached copy and uses it on the next open (measured: the code cache consumed,
    // 430 KB, and the script's run 52 ms where the module's evaluation took 143 ms), but compiled
    // the module from its source on every open. Strict as a module is.
    format: "iife",
    banner: '"use strict";',
    minify: true,
    // The app never reads these; keep the bundle free of a process shim.
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
  });
  if (!result.success) throw new Error(`building the web app failed:\n${result.logs.join("\n")}`);
  const js = result.outputs.find((o) => o.kind === "entry-point");
  const css = result.outputs.filter((o) => o.path.endsWith(".css"));
  if (!js) throw new Error("building the web app produced no script");
  return { js: await js.text(), css: (await Promise.all(css.map((c) => c.text()))).join("\n") };
}
