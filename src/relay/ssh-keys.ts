/**
 * The SSH gateway's keys: its own host key, and the public keys that may log in. `authorized_keys`
 * is in OpenSSH format; options are not supported, and a line with options is ignored.
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { type ParsedKey, utils } from "ssh2";
import { writeFileAtomic } from "../sys/files";
import { describe } from "./ssh-errors";

/** The ed25519 host key at `path` (OpenSSH format), made with mode 0600 if there is none yet. */
export function loadOrCreateHostKey(path: string, log: (msg: string) => void): string {
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (text === undefined) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    text = newHostKey();
    writeFileAtomic(path, text, 0o600);
    log(`SSH host key created at ${path}`);
  }
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error || (Array.isArray(parsed) && !parsed.length)) {
    throw new Error(`${path} is not a usable SSH host key (${parsed instanceof Error ? parsed.message : "empty"}); move it away and a new one is made`);
  }
  return text;
}

/**
 * A new ed25519 key that ssh2 can read back. Its generator now and then (11 keys in 3000 here)
 * writes a key its own parser calls malformed, which made the gateway refuse to start; such a key
 * is simply made again.
 */
export function newHostKey(): string {
  for (let i = 0; ; i++) {
    const key = utils.generateKeyPairSync("ed25519").private;
    if (!(utils.parseKey(key) instanceof Error) || i >= 20) return key;
  }
}

const KEY_TYPE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/;

/** authorized_keys, re-read whenever it changes (no restart to add a key). Absent: no keys. */
export class AuthorizedKeys {
  private cached?: { stamp: string; keys: ParsedKey[] };

  constructor(
    private readonly path: string,
    private readonly log: (msg: string) => void,
  ) {}

  find(blob: Buffer): ParsedKey | undefined {
    return this.load().find((k) => k.getPublicSSH().equals(blob));
  }

  private load(): ParsedKey[] {
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      this.cached = undefined;
      return [];
    }
    if (this.cached?.stamp === stamp) return this.cached.keys;
    const keys: ParsedKey[] = [];
    let text = "";
    try {
      text = readFileSync(this.path, "utf8");
    } catch (e) {
      this.log(`ssh: cannot read ${this.path}: ${describe(e)}`);
    }
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      const words = line.split(/\s+/);
      if (!KEY_TYPE.test(words[0]!)) {
        this.log(`ssh: ${this.path} line ${i + 1}: ignored (not "<type> <base64> [comment]"; key options are not supported)`);
        return;
      }
      const k = utils.parseKey(line);
      const key = Array.isArray(k) ? k[0] : k;
      if (!key || key instanceof Error) {
        this.log(`ssh: ${this.path} line ${i + 1}: ignored (${key instanceof Error ? key.message : "no key"})`);
        return;
      }
      keys.push(key);
    });
    this.cached = { stamp, keys };
    return keys;
  }
}
