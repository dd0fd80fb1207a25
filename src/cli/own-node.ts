/**
 * `node:session` where the node is another of this relay's nodes (the owner's own): the message
 * goes end to end, sealed and signed by this machine's node, when the other node has published
 * its card; otherwise (an older node) through the relay's tunnel, as before. CW_NODE_E2E=0 keeps
 * the tunnel (to compare the two, or to step around a problem).
 */
import { NodeError } from "../client/errors";
import { remoteTarget } from "../client/remote-target";
import { dataDir, pathsFor } from "../config/paths";
import type { SessionRef } from "../protocol";
import { NODE_NAME_RE } from "../protocol/constants";
import { sessionRef } from "./target";

export function ownNodeAddress(target: string | undefined): { node: string; session: SessionRef } | undefined {
  if (!target || target.includes("@") || remoteTarget() || process.env.CW_NODE_E2E === "0") return undefined;
  const colon = target.indexOf(":");
  if (colon <= 0) return undefined;
  const node = target.slice(0, colon);
  if (!NODE_NAME_RE.test(node)) return undefined;
  const { readRelaySettings } = require("../config/relay") as typeof import("../config/relay");
  let mine: string | undefined;
  try {
    const s = readRelaySettings(pathsFor(dataDir()).relay);
    if (!s) return undefined;
    mine = s.node;
  } catch {
    return undefined; // the tunnel path says what is wrong with relay.toml
  }
  if (!mine || mine === node) return undefined;
  return { node, session: sessionRef(target.slice(colon + 1), "target") };
}

/** Runs the end-to-end send; undefined when the other node cannot take it (then use the tunnel). */
export async function endToEnd<T>(send: () => Promise<T>): Promise<T | undefined> {
  try {
    return await send();
  } catch (e) {
    if (e instanceof NodeError && e.code === "no_end_to_end") return undefined;
    throw e;
  }
}
