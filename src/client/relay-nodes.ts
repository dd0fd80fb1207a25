/**
 * The nodes of this machine's relay, for a command that must tell a node's name from another
 * word (`cw launch dev-1 -- …`: the seed's remote launch, or a session named dev-1?).
 */
import { pathsFor } from "../config/paths";
import { personToken, readRelaySettings } from "../config/relay";
import { RelayClient } from "./relay-client";

export interface RelayNodes {
  /** This machine's own node, by its relay name. */
  self?: string;
  names: string[];
}

/** undefined: this machine has no relay. Throws when the relay cannot be asked. */
export async function relayNodes(root: string): Promise<RelayNodes | undefined> {
  const settings = readRelaySettings(pathsFor(root).relay);
  if (!settings) return undefined;
  // Listing nodes is a person's right, not a node's: the user token when setup wrote one.
  const nodes = await new RelayClient(settings.url, personToken(settings)).nodes();
  return { ...(settings.node ? { self: settings.node } : {}), names: nodes.map((n) => n.name) };
}
