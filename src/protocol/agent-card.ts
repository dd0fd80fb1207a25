/**
 * The card a relay publishes for each handle: the A2A AgentCard shape (protocol 0.3: name,
 * description, url, version, capabilities, default modes, skills, and JWS `signatures`), with
 * what cw needs in an extension: the handle, the verify key (Ed25519), the key messages are
 * sealed to (X25519) and where its mail goes. Keys and signatures are base64url.
 */
import { z } from "zod";

export const CW_IDENTITY_EXTENSION = "https://codewire.sh/a2a/identity/v1";

/** `name@host`: a name of 1-63 letters, digits and hyphens, at a relay's host (with its port, if any). */
export const HANDLE_RE = /^([a-z0-9][a-z0-9-]{0,62})@([a-z0-9.-]+(?::\d{1,5})?)$/;
export const HandleName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: "a handle's name is 1-63 lower-case letters, digits and hyphens" });
export const Handle = z.string().regex(HANDLE_RE, { message: "a handle is name@relay-host (name: lower-case letters, digits, hyphens)" });

/**
 * `node:<node name>@host`: a node of one relay as its owner's other nodes address it. No handle
 * can look like this (a handle has no colon before its @), so the two never collide. Between one
 * owner's nodes on one relay, envelopes go from one such address to another, without pairing.
 */
export const NODE_ADDRESS_RE = /^node:([a-zA-Z0-9][a-zA-Z0-9-]{0,62})@([a-z0-9.-]+(?::\d{1,5})?)$/;
export const NodeAddress = z.string().regex(NODE_ADDRESS_RE, { message: "a node address is node:<name>@relay-host" });
/** Who an envelope or a card speaks for: a handle, or one of the owner's nodes. */
export const Address = z.union([Handle, NodeAddress]);

export function nodeAddress(node: string, host: string): string {
  return `node:${node}@${host}`;
}

/** The node name of a node address, or null for a handle. */
export function nodeOfAddress(address: string): string | null {
  return NODE_ADDRESS_RE.exec(address)?.[1] ?? null;
}

const B64u32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, { message: "a 32-byte key in base64url" });

export const IdentityParams = z.object({
  handle: Address,
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  nickname: z.string(),
  ed25519: B64u32,
  x25519: B64u32,
  /** Where envelopes for this handle are posted (the relay's mail endpoint). */
  mailbox: z.string().url(),
});
export type IdentityParams = z.infer<typeof IdentityParams>;

export const AgentCardSignature = z.object({ protected: z.string(), signature: z.string(), header: z.record(z.string(), z.unknown()).optional() });

export const AgentCard = z.object({
  protocolVersion: z.string(),
  name: z.string(),
  description: z.string(),
  url: z.string().url(),
  version: z.string(),
  capabilities: z.object({
    streaming: z.boolean().optional(),
    pushNotifications: z.boolean().optional(),
    extensions: z.array(z.object({ uri: z.string(), description: z.string().optional(), required: z.boolean().optional(), params: z.record(z.string(), z.unknown()).optional() })).optional(),
  }),
  defaultInputModes: z.array(z.string()),
  defaultOutputModes: z.array(z.string()),
  skills: z.array(z.object({ id: z.string(), name: z.string(), description: z.string(), tags: z.array(z.string()), examples: z.array(z.string()).optional() })),
  signatures: z.array(AgentCardSignature).optional(),
});
export type AgentCard = z.infer<typeof AgentCard>;
