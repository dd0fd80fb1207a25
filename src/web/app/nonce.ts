/**
 * xterm.js creates <style> elements for its theme and cell size. The page's CSP admits only
 * styles that carry this page's nonce (page.ts), so every <style> made here gets it. Imported
 * first, before xterm.js runs.
 */
const nonce = document.querySelector<HTMLMetaElement>('meta[name="cw-style-nonce"]')?.content ?? "";
const create = Document.prototype.createElement;
Document.prototype.createElement = function (this: Document, tag: string, options?: ElementCreationOptions) {
  const el = create.call(this, tag, options);
  if (nonce && tag.toLowerCase() === "style") (el as HTMLStyleElement).nonce = nonce;
  return el;
} as typeof Document.prototype.createElement;
