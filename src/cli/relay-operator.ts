/** The relay as its operator reaches it: its URL (given, or this machine's) and the admin token. */
import { RelayClient } from "../client/relay-client";
import { dataDir, pathsFor } from "../config/paths";
import { readRelaySettings } from "../config/relay";
import { UsageError } from "./errors";

export function operatorRelay(url: string | undefined, token: string | undefined): RelayClient {
  const base = (url ?? readRelaySettings(pathsFor(dataDir()).relay)?.url)?.replace(/\/+$/, "");
  if (!base) throw new UsageError("which relay? this machine has none", "pass --relay <url>, or run `cw setup <relay-url>` first");
  const admin = token || process.env.CW_AUTH_TOKEN;
  if (!admin) throw new UsageError("this needs the relay's admin token", "pass --token <admin token> or set CW_AUTH_TOKEN");
  return new RelayClient(base, admin);
}
