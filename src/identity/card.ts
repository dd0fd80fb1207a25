/**
 * Signed cards. A card is signed as A2A 0.3 says: a detached JWS (EdDSA) over the card's
 * canonical JSON without its `signatures`, the protected header naming the key by fingerprint.
 * Verifying checks the signature with the key the card itself carries, and that the key's
 * fingerprint is the one named: a card proves who holds the key, and a relay that swaps any
 * field of it (the handle, the sealing key, the mailbox) breaks the signature.
 */
import { AgentCard, CW_IDENTITY_EXTENSION, IdentityParams } from "../protocol/agent-card";
import { VERSION } from "../version";
import { b64u, canonicalJson, unb64u } from "./encoding";
import { fingerprintOf, type Identity, type PublicIdentity, verifySignature } from "./keys";

export interface CardInfo {
  handle: string;
  mailbox: string;
  /** The relay's base URL: the card's `url`, how to reach the handle. */
  url: string;
}

export function makeCard(me: Identity, info: CardInfo): AgentCard {
  const params: IdentityParams = {
    handle: info.handle,
    fingerprint: me.fingerprint,
    nickname: me.face.nickname,
    ed25519: b64u(me.ed25519),
    x25519: b64u(me.x25519),
    mailbox: info.mailbox,
  };
  const card: AgentCard = {
    protocolVersion: "0.3.0",
    name: info.handle,
    description: `Codewire node ${me.face.nickname} (${info.handle}): its sessions take messages and requests from paired peers, signed and sealed end to end.`,
    url: info.url,
    version: VERSION,
    capabilities: { streaming: false, pushNotifications: false, extensions: [{ uri: CW_IDENTITY_EXTENSION, description: "Codewire identity: verify key, sealing key and mailbox", required: true, params }] },
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [{ id: "message", name: "Messages and requests", description: "Deliver a message or a request to a named session of this node, once its owner has accepted pairing.", tags: ["codewire", "messaging"] }],
  };
  const header = b64u(Buffer.from(JSON.stringify({ alg: "EdDSA", typ: "JOSE", kid: me.fingerprint })));
  const signature = b64u(me.sign(signingInput(header, card)));
  return { ...card, signatures: [{ protected: header, signature }] };
}

function signingInput(protectedHeader: string, card: AgentCard): Buffer {
  const { signatures: _ignored, ...body } = card;
  return Buffer.from(`${protectedHeader}.${b64u(Buffer.from(canonicalJson(body)))}`);
}

export type VerifiedCard = { card: AgentCard; identity: IdentityParams; keys: PublicIdentity };

/** The card's identity when it is well formed and signed by the key it carries; else why not. */
export function verifyCard(raw: unknown): VerifiedCard | { error: string } {
  const parsed = AgentCard.safeParse(raw);
  if (!parsed.success) return { error: `not an agent card: ${parsed.error.issues[0]?.message}` };
  const card = parsed.data;
  const ext = card.capabilities.extensions?.find((e) => e.uri === CW_IDENTITY_EXTENSION);
  const id = IdentityParams.safeParse(ext?.params);
  if (!id.success) return { error: "the card has no codewire identity" };
  const ed25519 = unb64u(id.data.ed25519);
  if (fingerprintOf(ed25519) !== id.data.fingerprint) return { error: "the card's fingerprint is not its key's" };
  const sig = card.signatures?.[0];
  if (!sig) return { error: "the card is not signed" };
  let header: { alg?: unknown; kid?: unknown };
  try {
    header = JSON.parse(unb64u(sig.protected).toString("utf8"));
  } catch {
    return { error: "the card's signature header is not JSON" };
  }
  if (header.alg !== "EdDSA" || header.kid !== id.data.fingerprint) return { error: "the card is signed with another key or algorithm" };
  let ok = false;
  try {
    ok = verifySignature(ed25519, signingInput(sig.protected, card), unb64u(sig.signature));
  } catch {
    ok = false;
  }
  if (!ok) return { error: "the card's signature does not verify: it was changed after it was signed" };
  return { card, identity: id.data, keys: { ed25519, x25519: unb64u(id.data.x25519), fingerprint: id.data.fingerprint } };
}
