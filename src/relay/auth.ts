/**
 * Who is calling the relay: the operator (the admin token), a person (a user token), or a
 * registered node (its token), and what each may do (`mayReach`).
 * The admin token comes from CW_AUTH_TOKEN (kept in memory only) or, without it, from the hash
 * made the first time the relay started; node tokens are looked up by their hash.
 */
import { timingSafeEqual } from "node:crypto";
import { newToken, sha256 } from "../sys/secrets";
import type { RelayStore } from "./store/interface";

export type Identity = { kind: "admin" } | { kind: "user"; name: string } | { kind: "node"; name: string };

/**
 * Whether nodes may reach each other without a grant: "none" (the default: a node's token is
 * that node and no other), or "all" (every node trusts every other, as relays before this did).
 */
export type NodeAccess = "none" | "all";

/**
 * Makes sure the relay has an admin token. With neither CW_AUTH_TOKEN nor a stored hash, makes
 * one, stores only its hash and returns it so the command can print it this once.
 */
export async function ensureAdminToken(store: RelayStore, envToken?: string): Promise<{ generated?: string }> {
  if (envToken || (await store.adminTokenHash())) return {};
  const token = newToken();
  await store.setAdminTokenHash(sha256(token));
  return { generated: token };
}

/** How long the stored admin token's hash is trusted before it is read again. */
const ADMIN_HASH_READ_EVERY_MS = 2_000;

export class RelayAuth {
  /** CW_AUTH_TOKEN's hash: while it is set it is the admin token, and a stored hash is not consulted. */
  private readonly adminHash: Uint8Array | undefined;
  /** The stored hash as last read (every request's compare needs it; it changes only at setup). */
  private stored: { hash: Uint8Array | null; at: number } | undefined;

  constructor(
    private readonly store: RelayStore,
    adminToken?: string,
    readonly nodeAccess: NodeAccess = "none",
  ) {
    this.adminHash = adminToken ? hashToken(adminToken) : undefined;
  }

  /** The caller behind an Authorization header; null when there is none or it is not known. */
  async identify(authorization: string | null): Promise<Identity | null> {
    const token = bearer(authorization);
    if (!token) return null;
    // One hash per request, compared with the admin's in constant time, then looked up: timing
    // can reveal at most something about a SHA-256 of a 256-bit random token, which does not
    // help guess the token.
    const hash = hashToken(token);
    if (await this.isAdmin(hash)) return { kind: "admin" };
    const node = await this.store.nodeByTokenHash(hash);
    if (node) return { kind: "node", name: node.name };
    const user = await this.store.userByTokenHash(hash);
    return user ? { kind: "user", name: user.name } : null;
  }

  /**
   * Whether `who` may reach node `target` (its sessions, through the relay or over SSH). People
   * may reach every node; a node only itself, what it was granted, or all under "all".
   */
  async mayReach(who: Identity, target: string): Promise<boolean> {
    if (who.kind !== "node") return true;
    return who.name === target || this.nodeAccess === "all" || (await this.store.mayReach(who.name, target));
  }

  private async isAdmin(hash: Uint8Array): Promise<boolean> {
    const admin = this.adminHash ?? (await this.storedAdminHash());
    return admin !== null && admin.length === hash.length && timingSafeEqual(hash, admin);
  }

  /**
   * Read again every ADMIN_HASH_READ_EVERY_MS, not once: ensureAdminToken may run after this
   * object is made, and replicas starting together on one database may each write one (the last
   * stands).
   */
  private async storedAdminHash(): Promise<Uint8Array | null> {
    const now = Date.now();
    if (this.stored === undefined || now - this.stored.at >= ADMIN_HASH_READ_EVERY_MS || this.stored.hash === null) {
      this.stored = { hash: await this.store.adminTokenHash(), at: now };
    }
    return this.stored.hash;
  }
}

/**
 * SHA-256 of a token, as sys/secrets' sha256 makes it for the store, by Bun's native hasher:
 * a quarter of node:crypto's cost on every authenticated request.
 */
function hashToken(token: string): Uint8Array {
  return Bun.SHA256.hash(token) as Uint8Array;
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
function bearer(header: string | null): string | undefined {
  const m = header?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
  return m?.[1];
}
