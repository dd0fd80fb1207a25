/**
 * The node's identity: one Ed25519 key made at first start and kept in the data dir (mode 0600,
 * never sent anywhere), from whose seed everything else is derived with HKDF: the X25519 key
 * messages are sealed to, and one key per session. Only this room touches private key material;
 * the rest of the tree gets public keys, fingerprints, signatures and sealed bytes.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject, sign, verify } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../sys/files";
import { b64u, unb64u } from "./encoding";
import { type Face, faceOf } from "./nickname";

// PKCS#8 wrappers for a raw 32-byte private key (RFC 8410): the fixed DER prefix before the key,
// which is how node:crypto imports a key derived from a seed.
const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");

function fromSeed(prefix: Buffer, seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: "der", type: "pkcs8" });
}

/** The raw 32 bytes of an Ed25519 or X25519 public key. */
export function rawPublic(key: KeyObject): Buffer {
  return unb64u((createPublicKey(key).export({ format: "jwk" }) as { x: string }).x);
}

export function ed25519Public(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64u(raw) }, format: "jwk" });
}

export function x25519Public(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error("an X25519 public key is 32 bytes");
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: b64u(raw) }, format: "jwk" });
}

/** SHA-256 of the Ed25519 public key: what names a key everywhere (hex). */
export function fingerprintOf(ed25519: Uint8Array): string {
  return createHash("sha256").update(ed25519).digest("hex");
}

/** A fingerprint as people compare it: its first 16 hex digits in groups of four. */
export function shortFingerprint(fp: string): string {
  return fp.slice(0, 16).match(/.{4}/g)!.join("-");
}

export function faceOfFingerprint(fp: string): Face {
  return faceOf(Buffer.from(fp, "hex"));
}

/** Checks an Ed25519 signature; false (never a throw) for a malformed key or signature. */
export function verifySignature(ed25519: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return signature.length === 64 && verify(null, data, ed25519Public(ed25519), signature);
  } catch {
    return false;
  }
}

/** What anyone may know of an identity. */
export interface PublicIdentity {
  ed25519: Buffer;
  x25519: Buffer;
  fingerprint: string;
}

export class Identity implements PublicIdentity {
  readonly ed25519: Buffer;
  readonly x25519: Buffer;
  readonly fingerprint: string;
  readonly face: Face;
  private readonly signing: KeyObject;
  private readonly agreement: KeyObject;

  constructor(private readonly seed: Buffer) {
    this.signing = fromSeed(ED25519_PKCS8, seed);
    this.agreement = fromSeed(X25519_PKCS8, derive(seed, "codewire/x25519/v1"));
    this.ed25519 = rawPublic(this.signing);
    this.x25519 = rawPublic(this.agreement);
    this.fingerprint = fingerprintOf(this.ed25519);
    this.face = faceOfFingerprint(this.fingerprint);
  }

  sign(data: Uint8Array): Buffer {
    return sign(null, data, this.signing);
  }

  /** The private half of the agreement key, for seal.ts only. */
  agreementKey(): KeyObject {
    return this.agreement;
  }

  /**
   * Session `id`'s own key, derived from the node's seed: the same session id always has the
   * same key, and a node that loses its key file loses its sessions' keys with it.
   */
  session(id: number): Identity {
    return new Identity(derive(this.seed, `codewire/session/${id}`));
  }

  /**
   * The key this node uses among its owner's other nodes on its relay (own-nodes.ts), derived
   * like a session's: apart from the handle's key, so that a node that is both a peer (by its
   * handle) and one of the owner's nodes (by its name) is two rows in the other's peers, each
   * with its own sequence numbers and state.
   */
  ownNodes(): Identity {
    return new Identity(derive(this.seed, "codewire/own-nodes/v1"));
  }

  /**
   * A certificate that `child` (a session's key) was issued by this node's key: the node signs
   * the child's fingerprint and session id, so a peer who trusts the node can trust the session.
   */
  issue(child: Identity, sessionId: number, name?: string): SessionCertificate {
    const body = { v: 1 as const, issuer: this.fingerprint, session: sessionId, ...(name ? { name } : {}), ed25519: b64u(child.ed25519), fingerprint: child.fingerprint };
    return { ...body, signature: b64u(this.sign(Buffer.from(certificateBytes(body)))) };
  }
}

export interface SessionCertificate {
  v: 1;
  issuer: string;
  session: number;
  /** The session's name when it was certified: a sender's name is believed only from here. */
  name?: string;
  ed25519: string;
  fingerprint: string;
  signature: string;
}

function certificateBytes(c: Omit<SessionCertificate, "signature">): string {
  return `codewire/session-cert/v1\n${c.issuer}\n${c.session}\n${c.ed25519}\n${c.fingerprint}${c.name ? `\nname=${c.name}` : ""}`;
}

/** True when `cert` was signed by the node key `issuer` and names the key it carries. */
export function verifyCertificate(cert: SessionCertificate, issuer: Uint8Array): boolean {
  try {
    if (cert.issuer !== fingerprintOf(issuer) || cert.fingerprint !== fingerprintOf(unb64u(cert.ed25519))) return false;
    return verifySignature(issuer, Buffer.from(certificateBytes(cert)), unb64u(cert.signature));
  } catch {
    return false;
  }
}

function derive(seed: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", seed, Buffer.alloc(0), info, 32));
}

/**
 * The node's identity from `path` (PKCS#8 PEM of the Ed25519 key), made there at first start
 * with mode 0600. A file another user can read is tightened, not trusted silently.
 */
export function loadOrCreateIdentity(path: string): Identity {
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileAtomic(path, privateKey.export({ format: "pem", type: "pkcs8" }).toString(), 0o600);
  }
  chmodSync(path, 0o600);
  const key = createPrivateKey(readFileSync(path, "utf8"));
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`${path} does not hold an Ed25519 key`);
  const der = key.export({ format: "der", type: "pkcs8" });
  return new Identity(Buffer.from(der.subarray(der.length - 32)));
}
