/**
 * A session that messages a session on another node: the other node cannot look this session
 * up, so the message carries it as this node names it (`dev-2:7 (worker)`), and the receiving
 * agent knows who asked. Only used when the command goes to another node.
 */
import { pathsFor } from "../config/paths";
import { nodeNameFrom, SESSION_NAME_RE } from "../protocol/constants";
import { remoteTarget } from "./remote-target";

export interface RemoteSenderInfo {
  id: number;
  name?: string;
  node: string;
}

/** This session as a remote sender, or nothing (not in a session, or the target is local). */
export function remoteSender(root: string): { from_remote?: RemoteSenderInfo } {
  if (!remoteTarget()) return {};
  const id = Number(process.env.CW_SESSION_ID);
  if (!Number.isInteger(id) || id <= 0) return {};
  const node = thisNodeName(root);
  const name = process.env.CW_SESSION_NAME;
  return { from_remote: { id, ...(name && SESSION_NAME_RE.test(name) ? { name } : {}), node } };
}

/** How the relay (or, without one, the host) names this machine's node. */
function thisNodeName(root: string): string {
  try {
    const { readRelaySettings } = require("../config/relay") as typeof import("../config/relay");
    const node = readRelaySettings(pathsFor(root).relay)?.node;
    if (node) return node;
  } catch {
    /* no usable relay.toml: fall back to the host's name */
  }
  return nodeNameFrom(process.env.CODEWIRE_NODE_NAME || (require("node:os") as typeof import("node:os")).hostname());
}
