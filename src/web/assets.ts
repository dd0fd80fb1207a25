/**
 * The browser app's script and stylesheet. In the compiled binary they are part of the bundle
 * (scripts/build.ts defines CW_WEB_ASSETS, so this chunk carries them and nothing is read from
 * disk or a CDN); run from source, they are built from app/ on first use.
 */
import type { WebAssets } from "./build-app";

declare const CW_WEB_ASSETS: WebAssets | undefined;

let built: Promise<WebAssets> | undefined;

export function webAssets(): Promise<WebAssets> {
  if (typeof CW_WEB_ASSETS === "object") return Promise.resolve(CW_WEB_ASSETS);
  built ??= import("./build-app").then((m) => m.buildWebApp());
  return built;
}
