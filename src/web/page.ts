/**
 * The app's one HTML page and the headers every web response carries. The Content-Security-Policy
 * allows only the app's own script and stylesheet: no inline script, no other origin, no frames.
 * xterm.js writes its theme and cell size into <style> elements it creates: those carry this
 * response's nonce (app/nonce.ts sets it), so a style element anyone else injects does not apply.
 * It also colours 24-bit colour cells with style attributes, which cannot carry a nonce: style
 * attributes are allowed (style-src-attr), scripts never are.
 */
import { randomBytes } from "node:crypto";

import type { ServedAssets } from "./assets";

export function securityHeaders(nonce?: string): Record<string, string> {
  const style = nonce ? `style-src 'self' 'nonce-${nonce}'` : "style-src 'self'";
  return {
    "content-security-policy": `default-src 'none'; script-src 'self'; ${style}; style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
  };
}

export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/** The page; everything on it is drawn by the script. */
export function indexHtml(nonce: string, title: string, assets: ServedAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, interactive-widget=resizes-content">
<meta name="robots" content="noindex">
<meta name="cw-style-nonce" content="${nonce}">
<title>${title}</title>
<link rel="stylesheet" href="${assets.css.path}">
<script defer src="${assets.js.path}"></script>
</head>
<body>
<noscript>The codewire web app needs JavaScript.</noscript>
</body>
</html>
`;
}
