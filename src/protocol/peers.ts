/**
 * Requests about this node's identity and its peers (other owners' nodes, by handle): `cw id`,
 * `cw peer …`, and messages to `handle:session`. Shared by node, CLI and MCP.
 */
import { z } from "zod";
import { Address, Handle, HandleName } from "./agent-card";
import { Delivery, Message } from "./messages";
import { SessionRef, Tag } from "./session";

const base = { protocol: z.number().int().optional() };
const Body = z.string().min(1, { message: "the message is empty" }).max(64 * 1024);

export const IdShow = z.object({ type: z.literal("IdShow"), ...base, session: SessionRef.optional() });
export const IdClaim = z.object({ type: z.literal("IdClaim"), ...base, name: HandleName });
export const PeerAdd = z.object({ type: z.literal("PeerAdd"), ...base, handle: Handle });
export const PeerList = z.object({ type: z.literal("PeerList"), ...base, pending: z.boolean().default(false) });
export const PeerAccept = z.object({ type: z.literal("PeerAccept"), ...base, handle: Handle });
export const PeerReject = z.object({ type: z.literal("PeerReject"), ...base, handle: Handle });
/** A peer's handle, or one of the owner's nodes (node:<name>@<relay host>) to forget its pinned key. */
export const PeerRemove = z.object({ type: z.literal("PeerRemove"), ...base, handle: Address });
/** A message or request to a session of a paired peer: signed, sealed, through the relays. */
export const PeerMsg = z.object({
  type: z.literal("PeerMsg"),
  ...base,
  /** A paired peer's handle, or `node:<name>`: another node of this node's relay (the same owner), end to end without pairing. */
  to: z.union([Handle, z.string().regex(/^node:[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/, { message: "a node of this relay is node:<name>" })]),
  session: SessionRef,
  body: Body,
  from: SessionRef.optional(),
  /** Only to the owner's own nodes: a peer's sessions get messages in their inbox only. */
  delivery: Delivery.optional(),
  kind: z.enum(["msg", "request"]).default("msg"),
  timeout_s: z.number().positive().max(86_400).default(60),
});

/** `cw broadcast --peers`: every paired peer's running sessions (with a tag, only those). */
export const PeerBroadcast = z.object({ type: z.literal("PeerBroadcast"), ...base, tags: z.array(Tag).optional(), body: Body, from: SessionRef.optional() });

export const PEER_REQUESTS = [IdShow, IdClaim, PeerAdd, PeerList, PeerAccept, PeerReject, PeerRemove, PeerMsg, PeerBroadcast] as const;

const Face = { fingerprint: z.string(), short: z.string(), nickname: z.string(), emoji: z.string(), emoji_name: z.string() };
export const IdInfo = z.object({
  type: z.literal("IdInfo"),
  ...Face,
  ed25519: z.string(),
  x25519: z.string(),
  /** The handle claimed on this machine's relay, or null. */
  handle: Handle.nullable(),
  relay: z.string().nullable(),
  /** With `session`: that session's own key, derived from the node's and certified by it. */
  session: z.object({ id: z.number().int(), ...Face }).optional(),
});

export const PeerState = z.enum(["pending_in", "pending_out", "paired", "rejected", "removed"]);
export const PeerInfo = z.object({
  /** A peer's handle, or node:<name>@<relay host> for one of the owner's nodes (no pairing, its key pinned). */
  handle: Address,
  fingerprint: z.string(),
  short: z.string(),
  nickname: z.string(),
  state: PeerState,
  since: z.string(),
  sent: z.number().int(),
  received: z.number().int(),
  /** Envelopes from this peer refused, by why (changed on the way, replayed or reordered, too old, not paired). */
  refused: z.object({ tampered: z.number().int(), replayed: z.number().int(), stale: z.number().int(), unpaired: z.number().int() }),
  /** Envelopes to this peer a relay gave up on (its relay unreachable until they expired, or it refused them later). */
  undelivered: z.number().int().optional(),
});
export type PeerInfo = z.infer<typeof PeerInfo>;
export const PeerListResult = z.object({
  type: z.literal("PeerListResult"),
  peers: z.array(PeerInfo),
  /** Envelopes refused from keys that are no peer at all (strangers, forgeries). */
  refused_strangers: z.number().int(),
});
export const PeerDone = z.object({ type: z.literal("PeerDone"), peer: PeerInfo, action: z.enum(["requested", "paired", "already", "rejected", "removed"]) });

/** Which peers' relays took the broadcast, and which could not be reached (with why). */
export const PeerBroadcastSent = z.object({ type: z.literal("PeerBroadcastSent"), sent: z.array(Handle), failed: z.array(z.object({ handle: Handle, error: z.string() })) });

export const PEER_REPLIES = [IdInfo, PeerListResult, PeerDone, PeerBroadcastSent] as const;
