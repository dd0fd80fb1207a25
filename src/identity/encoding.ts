/**
 * Bytes as text for keys, signatures and ciphertext (base64url, no padding), and the one JSON
 * form that is signed: keys sorted at every level, no spaces (RFC 8785's output for the
 * strings, integers, booleans and nulls our signed objects hold), so signer and verifier hash
 * the same bytes whatever order a parser kept.
 */

export function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** Decodes base64url; throws on anything that is not (a signature of the wrong length is refused later). */
export function unb64u(text: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  return Buffer.from(text, "base64url");
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isSafeInteger(value)) throw new Error("only safe integers are signed");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}
