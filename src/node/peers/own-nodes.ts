/**
 * One owner's nodes on one relay talk end to end without pairing: one owner, one trust domain.
 * Each node publishes its own card on its relay (its address `node:<name>@<relay host>`), which
 * also says it takes sealed envelopes; a node without one is older and is reached the old way
 * (the CLI falls back to the relay's tunnel). The relay vouches for which key is which node, as
 * it vouches for node tokens; each node pins the first key it sees for another (trust on first
 * use), so a relay that later swaps a key is refused rather than believed. `cw peer remove
 * node:<name>@<host>` forgets a pin (after a node's data dir was made again).
 */
import { type Envelope, EnvelopeError, makeCard, shortFingerprint, signClaim, signedBy, verifyCard, type VerifiedCard } from "../../identity";
import { nodeAddress, nodeOfAddress } from "../../protocol/agent-card";
import { ProtocolError } from "../../protocol";
import type { PeerService } from "./service";
import type { PeerRow } from "./store";

/** Publishes this node's card once per relay, node name and key; the relay's answer is remembered. */
export async function publishNodeCard(svc: PeerService): Promise<boolean> {
  const link = svc.link();
  const node = link.settings.node;
  if (!node) return false;
  const address = nodeAddress(node, link.host);
  const stamp = `${link.settings.url}|${address}|${svc.nodeKey.fingerprint}`;
  if (svc.store.meta("node_card") === stamp) return true;
  const card = makeCard(svc.nodeKey, { handle: address, mailbox: `${link.settings.url}/api/v1/mail`, url: link.settings.url });
  try {
    await link.publishNodeCard(card, signClaim(svc.nodeKey, address, node));
  } catch (e) {
    // A relay from before node cards: this node is reached through the tunnel, as before.
    if (e instanceof ProtocolError && (e.code === "not_found" || e.code === "relay_refused")) return false;
    throw e;
  }
  svc.store.setMeta("node_card", stamp);
  svc.deps.log(`peer: published this node's card as ${address}: the owner's other nodes message it end to end`);
  return true;
}

/** A node card from this relay, checked: signed by its own key, for that node of this relay. */
async function nodeCard(svc: PeerService, node: string): Promise<VerifiedCard | null> {
  const link = svc.link();
  const raw = await link.nodeCard(node);
  if (raw === null) return null;
  const v = verifyCard(raw);
  if ("error" in v) throw new ProtocolError("relay_refused", `the card of node ${node} is not trustworthy: ${v.error}`, "the relay may have changed it");
  // By name: the host is the one that node calls the relay by (replicas without --base-url differ).
  if (nodeOfAddress(v.identity.handle) !== node) throw new ProtocolError("relay_refused", `the relay answered for node ${node} with the card of ${v.identity.handle}`, "the relay is misbehaving");
  return v;
}

/** A pinned key changed: refused until the owner forgets the old one. */
function keyChanged(address: string, pinned: PeerRow, fp: string): string {
  return `${address} now has key ${shortFingerprint(fp)}, not the ${shortFingerprint(pinned.fp)} this node pinned; if its data dir was made again, forget the old key: cw peer remove ${address}`;
}

/**
 * The row to send to one of the owner's other nodes: pinned, or pinned now from its card. Throws
 * `no_end_to_end` when that node published no card (it is older: the caller uses the tunnel).
 */
export async function ownNodeRow(svc: PeerService, node: string): Promise<PeerRow> {
  const pinned = svc.store.byNodeName(node);
  if (pinned?.state === "paired") return pinned;
  const v = await nodeCard(svc, node);
  if (!v) throw new ProtocolError("no_end_to_end", `node ${node} has published no card: it runs an older cw`, "it is reached through the relay's tunnel instead");
  svc.deps.log(`peer: pinned node ${node}'s key ${shortFingerprint(v.keys.fingerprint)} (${v.identity.nickname})`);
  return svc.store.upsert(v.keys.fingerprint, v.identity.handle, JSON.stringify(v.card), "paired");
}

/**
 * An envelope from an address `node:<name>@<host>` this node has not pinned yet: taken when the
 * host is this node's relay, the relay's card for that node carries the key that signed it, and
 * no other key is pinned for that node. Returns the pinned row.
 */
export async function pinSender(svc: PeerService, env: Envelope): Promise<PeerRow> {
  const node = nodeOfAddress(env.from.handle);
  if (!node) throw new EnvelopeError("unpaired", `${env.from.handle} is not a node of this node's relay`);
  const pinned = svc.store.byNodeName(node);
  if (pinned && pinned.fp !== env.from.fp && pinned.state !== "removed") throw new EnvelopeError("tampered", keyChanged(env.from.handle, pinned, env.from.fp));
  const v = await nodeCard(svc, node).catch(() => null);
  if (!v || v.identity.handle !== env.from.handle || v.keys.fingerprint !== env.from.fp || !signedBy(env, v.keys.ed25519)) throw new EnvelopeError("tampered", `not signed by the key the relay publishes for node ${node}`);
  svc.deps.log(`peer: pinned node ${node}'s key ${shortFingerprint(v.keys.fingerprint)} (${v.identity.nickname})`);
  return svc.store.upsert(v.keys.fingerprint, env.from.handle, JSON.stringify(v.card), "paired");
}

/** How the inbox names a sender: a node by its name (as the tunnel did), a peer by its handle. */
export function senderNode(row: PeerRow): string {
  return nodeOfAddress(row.handle) ?? row.handle;
}

export function isOwnNode(row: PeerRow): boolean {
  return nodeOfAddress(row.handle) !== null;
}
