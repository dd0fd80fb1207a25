/**
 * servers.toml: remote nodes saved with `cw server add`, by name. The file holds tokens, so it
 * is written with mode 0600 like everything else in the data directory.
 *
 *   [servers.my-gpu]
 *   url = "ws://gpu-host:9100"
 *   token = "..."
 */
import { stringify } from "smol-toml";
import { z } from "zod";
import { writeFileAtomic } from "../sys/files";
import { ConfigFileError, readTomlFile } from "./toml-file";

export { ConfigFileError };

export const SERVER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

const Server = z.object({ url: z.string(), token: z.string().optional() });
const ServersFile = z.object({ servers: z.record(z.string(), Server).default({}) });

export type SavedServer = z.infer<typeof Server>;

export function readServers(path: string): Record<string, SavedServer> {
  return readTomlFile(path, ServersFile)?.servers ?? {};
}

export function writeServers(path: string, servers: Record<string, SavedServer>): void {
  writeFileAtomic(path, stringify({ servers }) + "\n", 0o600);
}

/** ws://, wss://, or http(s):// (taken as ws(s)://); the path defaults to the node's /ws. */
export function normalizeServerUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new ConfigFileError(`${JSON.stringify(input)} is not a URL; give one like ws://host:9100`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new ConfigFileError(`${input}: a server URL starts with ws:// or wss://`);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/ws";
  return url.toString();
}
