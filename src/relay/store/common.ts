/** What both store engines share: device-code rules that are not SQL. */
import { randomInt } from "node:crypto";
import { USER_CODE_ALPHABET, USER_CODE_LENGTH } from "../../protocol/relay-api";

/**
 * An expired device request is kept this long after it expires, so that its poller is told
 * "expired" rather than "unknown"; then it is swept.
 */
export const DEVICE_KEEP_EXPIRED_MS = 10 * 60_000;

/** A random user code, uniform over the alphabet. */
export function newUserCode(): string {
  let code = "";
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}
