/**
 * A handle claim: the key signs "this handle, for this node of this relay, now", so that a
 * relay binds a handle to the node that holds the key. A card alone is public; anyone could
 * post someone else's card, but not sign a fresh claim with its key.
 */
import { b64u, unb64u } from "./encoding";
import { type Identity, verifySignature } from "./keys";

export interface Claim {
  handle: string;
  node: string;
  ts: number;
  signature: string;
}

function bytes(c: Omit<Claim, "signature">): Buffer {
  return Buffer.from(`codewire/claim/v1\n${c.handle}\n${c.node}\n${c.ts}`);
}

export function signClaim(me: Identity, handle: string, node: string, ts = Date.now()): Claim {
  return { handle, node, ts, signature: b64u(me.sign(bytes({ handle, node, ts }))) };
}

/** Signed by `ed25519`, naming `handle` and `node`, made within `windowMs` of `now`. */
export function verifyClaim(c: Claim, ed25519: Uint8Array, handle: string, node: string, now = Date.now(), windowMs = 5 * 60_000): boolean {
  if (c.handle !== handle || c.node !== node || Math.abs(now - c.ts) > windowMs) return false;
  try {
    return verifySignature(ed25519, bytes(c), unb64u(c.signature));
  } catch {
    return false;
  }
}
