/**
 * relay.toml: how this machine reaches its relay, written by `cw setup` (mode 0600: it holds the
 * node's token). The node connects its agent with it; `cw nodes` and `node:id` addresses use it
 * to reach other nodes through the same relay.
 *
 *   url = "https://relay.example.com"
 *   node = "dev-1"
 *   token = "..."          the node's token: it connects this node, and no other
 *   user_token = "..."     this machine's user (`cw setup` by the owner): lists and reaches nodes
 *
 * CODEWIRE_RELAY_URL and CODEWIRE_RELAY_TOKEN override the file (for containers and CI).
 */
import { stringify } from "smol-toml";
import { z } from "zod";
import { writeFileAtomic } from "../sys/files";
import { ConfigFileError, readTomlFile } from "./toml-file";

export { ConfigFileError };

const RelayFile = z.object({ url: z.string().min(1), node: z.string().min(1).optional(), token: z.string().min(1), user_token: z.string().min(1).optional() });
export type RelaySettings = z.infer<typeof RelayFile>;

/** The relay settings, or undefined when this machine has none. */
export function readRelaySettings(path: string): RelaySettings | undefined {
  const file = readTomlFile(path, RelayFile);
  const url = process.env.CODEWIRE_RELAY_URL || file?.url;
  const token = process.env.CODEWIRE_RELAY_TOKEN || file?.token;
  if (!url || !token) return undefined;
  return { url: url.replace(/\/+$/, ""), token, ...(file?.node ? { node: file.node } : {}), ...(file?.user_token ? { user_token: file.user_token } : {}) };
}

/** The token people's commands use: this machine's user token, else (granted or not) the node's. */
export function personToken(s: RelaySettings): string {
  return s.user_token ?? s.token;
}

export function writeRelaySettings(path: string, s: RelaySettings): void {
  writeFileAtomic(path, `${stringify(s)}\n`, 0o600);
}

/** The relay's WebSocket URL for `path` (https → wss, http → ws). */
export function relayWsUrl(base: string, path: string): string {
  return `${base.replace(/^http/, "ws")}${path}`;
}
