/** Tokens: made from the system's random source, compared without leaking timing. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A new random token (256 bits, base64url). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * Whether `given` equals `expected`, in time that depends on neither. Both are hashed first, so
 * even their lengths stay private.
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}
