/**
 * The node's token: the secret a remote client presents to the WebSocket listener. Made on first
 * need, kept in `<data dir>/token` (mode 0600) so that `cat ~/.codewire/token` on the node's
 * machine is how a user learns it.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../sys/files";
import { newToken } from "../sys/secrets";

export function loadOrCreateToken(path: string): string {
  try {
    const t = readFileSync(path, "utf8").trim();
    if (t.length >= 16) return t;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const t = newToken();
  writeFileAtomic(path, `${t}\n`, 0o600);
  return t;
}
