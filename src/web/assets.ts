/**
 * The browser app's script and stylesheet, as served. In the compiled binary they are part of
 * the bundle (scripts/build.ts defines CW_WEB_ASSETS, so this chunk carries them and nothing is
 * read from disk or a CDN); run from source, they are built from app/ on first use.
 *
 * Each is served at a path named by its content (/app/app.<hash>.js), which a browser may keep
 * for good (Cache-Control immutable): opening a session's page again then neither downloads nor
 * compiles the script anew (Chromium keeps its compiled code beside a cached script), and a
 * new cw's app has new paths. Gzipped once, on first request, for browsers that accept it.
 */
import type { WebAssets } from "./build-app";

declare const CW_WEB_ASSETS: WebAssets | undefined;

export interface ServedAsset {
  path: string;
  type: string;
  body: string;
  /** The body gzipped, made on first use. */
  gzip(): Uint8Array;
}

export interface ServedAssets {
  js: ServedAsset;
  css: ServedAsset;
}

let served: Promise<ServedAssets> | undefined;

export function webAssets(): Promise<ServedAssets> {
  served ??= (typeof CW_WEB_ASSETS === "object" ? Promise.resolve(CW_WEB_ASSETS) : import("./build-app").then((m) => m.buildWebApp())).then((a) => ({
    js: asset("app", "js", "text/javascript; charset=utf-8", a.js),
    css: asset("app", "css", "text/css; charset=utf-8", a.css),
  }));
  return served;
}

function asset(name: string, ext: string, type: string, body: string): ServedAsset {
  let gz: Uint8Array | undefined;
  return { path: `/app/${name}.${Bun.hash(body).toString(36)}.${ext}`, type, body, gzip: () => (gz ??= Bun.gzipSync(Buffer.from(body))) };
}
