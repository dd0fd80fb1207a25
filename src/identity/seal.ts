/**
 * Envelopes: a payload sealed to one recipient and signed by its sender.
 *
 * Sealing: an ephemeral X25519 key agrees a secret with the recipient's X25519 key, HKDF-SHA256
 * makes an AES-256-GCM key of it, and the header (ids, time, sequence, both parties) is the
 * AEAD's associated data, so none of it can be changed or moved to another envelope. Signing:
 * the sender's Ed25519 key signs the header and ciphertext, so the recipient knows who sent it
 * before decrypting, and a relay that re-signs with its own key fails the AEAD (the sender's
 * fingerprint is in the associated data). node:crypto does all of the cryptography.
 */
import { createCipheriv, createDecipheriv, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from "node:crypto";
import { b64u, canonicalJson, unb64u } from "./encoding";
import { fingerprintOf, type Identity, rawPublic, verifySignature, x25519Public } from "./keys";

export interface Party {
  handle: string;
  fp: string;
}

export interface EnvelopeHeader {
  v: 1;
  /** Unique per envelope: a second envelope with an id already seen is a replay. */
  id: string;
  /** The sender's clock, ms since the epoch: outside the window, refused. */
  ts: number;
  /** Counts up per sender and recipient: one that does not is a replay or reordered. */
  seq: number;
  from: Party;
  to: Party;
  /** The ephemeral X25519 public key. */
  epk: string;
  iv: string;
}

export interface Envelope extends EnvelopeHeader {
  /** Ciphertext followed by the 16-byte GCM tag. */
  ct: string;
  sig: string;
}

/** Why an envelope was refused; the node counts each kind for `cw peer list`. */
export class EnvelopeError extends Error {
  constructor(
    readonly reason: "tampered" | "misaddressed" | "replayed" | "stale" | "unpaired",
    message: string,
  ) {
    super(message);
  }
}

const INFO = "codewire/seal/v1";

function header(e: EnvelopeHeader): EnvelopeHeader {
  return { v: e.v, id: e.id, ts: e.ts, seq: e.seq, from: { handle: e.from.handle, fp: e.from.fp }, to: { handle: e.to.handle, fp: e.to.fp }, epk: e.epk, iv: e.iv };
}

function signedBytes(e: EnvelopeHeader & { ct: string }): Buffer {
  return Buffer.from(`codewire/envelope/v1\n${canonicalJson({ ...header(e), ct: e.ct })}`);
}

function aeadKey(shared: Buffer, epk: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", shared, Buffer.concat([epk, recipient]), INFO, 32));
}

export interface Recipient extends Party {
  x25519: Uint8Array;
}

export function seal(sender: Identity, from: string, to: Recipient, payload: unknown, meta: { id: string; seq: number; ts?: number }): Envelope {
  const eph = generateKeyPairSync("x25519");
  const epk = rawPublic(eph.privateKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: x25519Public(to.x25519) });
  const iv = randomBytes(12);
  const h: EnvelopeHeader = { v: 1, id: meta.id, ts: meta.ts ?? Date.now(), seq: meta.seq, from: { handle: from, fp: sender.fingerprint }, to: { handle: to.handle, fp: to.fp }, epk: b64u(epk), iv: b64u(iv) };
  const cipher = createCipheriv("aes-256-gcm", aeadKey(shared, epk, Buffer.from(to.x25519)), iv);
  cipher.setAAD(Buffer.from(canonicalJson(h)));
  const ct = b64u(Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final(), cipher.getAuthTag()]));
  return { ...h, ct, sig: b64u(sender.sign(signedBytes({ ...h, ct }))) };
}

/** True when `ed25519` is the sender's key (its fingerprint is `from.fp`) and it signed the envelope. */
export function signedBy(e: Envelope, ed25519: Uint8Array): boolean {
  if (fingerprintOf(ed25519) !== e.from.fp) return false;
  try {
    return verifySignature(ed25519, signedBytes(e), unb64u(e.sig));
  } catch {
    return false;
  }
}

/** Decrypts an envelope sealed to `me`; a changed byte anywhere in header or ciphertext throws. */
export function open(e: Envelope, me: Identity): unknown {
  if (e.to.fp !== me.fingerprint) throw new EnvelopeError("misaddressed", "the envelope is sealed to another key");
  let plain: string;
  try {
    const epk = unb64u(e.epk);
    const body = unb64u(e.ct);
    if (body.length < 16) throw new Error("short");
    const shared = diffieHellman({ privateKey: me.agreementKey(), publicKey: x25519Public(epk) });
    const decipher = createDecipheriv("aes-256-gcm", aeadKey(shared, epk, me.x25519), unb64u(e.iv));
    decipher.setAAD(Buffer.from(canonicalJson(header(e))));
    decipher.setAuthTag(body.subarray(body.length - 16));
    plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new EnvelopeError("tampered", "the envelope does not decrypt: it was changed on the way, or not sealed by its sender");
  }
  return JSON.parse(plain);
}
