/**
 * A session signs what it sends. The node derives each session's key (keys.ts session()) and
 * certifies it (issue(): the node key signs the session's id, name and key); the session's key
 * signs the message: the envelope's id, its kind, the target and the body. The proof travels
 * inside the sealed payload (relays see neither it nor which session wrote), and the recipient
 * checks the chain: the certificate against the key it pinned for the node, the signature
 * against the certificate's key, and that the session the message claims is the one certified.
 */
import { b64u, unb64u } from "./encoding";
import { type Identity, type SessionCertificate, verifyCertificate, verifySignature } from "./keys";

export interface SessionProof {
  cert: SessionCertificate;
  sig: string;
}

/** What a session's signature covers: bound to one envelope (its id), so it cannot be moved to another. */
export interface SignedMessage {
  envelopeId: string;
  kind: string;
  to?: string | number | null;
  requestId?: string | null;
  body?: string | null;
}

function bytes(m: SignedMessage): Buffer {
  return Buffer.from(`codewire/session-msg/v1\n${m.envelopeId}\n${m.kind}\n${JSON.stringify([m.to ?? null, m.requestId ?? null, m.body ?? null])}`);
}

/** A session's signing key and its certificate, made once per session and kept by the caller. */
export interface SessionSigner {
  key: Identity;
  cert: SessionCertificate;
}

export function sessionSigner(node: Identity, id: number, name?: string): SessionSigner {
  const key = node.session(id);
  return { key, cert: node.issue(key, id, name) };
}

export function proveSession(signer: SessionSigner, m: SignedMessage): SessionProof {
  return { cert: signer.cert, sig: b64u(signer.key.sign(bytes(m))) };
}

/**
 * Certificates already checked, by issuer and signature: a session sends many messages under
 * one certificate, and checking it again each time doubled the recipient's cost of the chain
 * (two Ed25519 verifications, ~140 µs, to one). Bounded; a forgotten one is checked again.
 */
const checkedCerts = new Set<string>();
const CHECKED_MAX = 4096;

function certificateOk(cert: SessionCertificate, nodeKey: Uint8Array): boolean {
  // Every field, as a change to any one must be checked again (and fail).
  const key = `${Buffer.from(nodeKey).toString("base64")}:${JSON.stringify([cert.v, cert.issuer, cert.session, cert.name ?? null, cert.ed25519, cert.fingerprint, cert.signature])}`;
  if (checkedCerts.has(key)) return true;
  if (!verifyCertificate(cert, nodeKey)) return false;
  if (checkedCerts.size >= CHECKED_MAX) checkedCerts.clear();
  checkedCerts.add(key);
  return true;
}

/**
 * Why `proof` does not show that session `from` of the node with key `nodeKey` sent `m`, or null
 * when it does.
 */
export function sessionProofError(proof: SessionProof | undefined, nodeKey: Uint8Array, from: { id: number; name?: string }, m: SignedMessage): string | null {
  if (!proof) return `it claims session ${from.id} without that session's signature`;
  if (!certificateOk(proof.cert, nodeKey)) return "its session certificate is not signed by the sending node's key";
  if (proof.cert.session !== from.id || (proof.cert.name ?? undefined) !== (from.name ?? undefined)) {
    return `it claims session ${from.id}${from.name ? ` (${from.name})` : ""}, but its certificate is for session ${proof.cert.session}${proof.cert.name ? ` (${proof.cert.name})` : ""}`;
  }
  let ok = false;
  try {
    ok = verifySignature(unb64u(proof.cert.ed25519), bytes(m), unb64u(proof.sig));
  } catch {
    ok = false;
  }
  return ok ? null : "the session's signature does not verify: the message was changed, or signed by another key";
}
