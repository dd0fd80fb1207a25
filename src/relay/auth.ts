/**
 * Who is calling the relay: the operator (the admin token), a person (a user token), or a
 * registered node (its token), and what each may do (`mayReach`).
 * The admin token comes from CW_AUTH_TOKEN (kept in memory only) or, without it, from the hash
 * made the first time the relay started; node tokens are looked up by their hash.
 */
import { timingSafeEqual } from "node:crypto";
import { newToken, sameSecret, sha256 } from "../sys/secrets";
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

export class RelayAuth {
  /** While CW_AUTH_TOKEN is set it is the admin token, and a stored hash is not consulted. */
  constructor(
    private readonly store: RelayStore,
    private readonly adminToken?: string,
    readonly nodeAccess: NodeAccess = "none",
  ) {}

  /** The caller behind an Authorization header; null when there is none or it is not known. */
  async identify(authorization: string | null): Promise<Identity | null> {
    const token = bearer(authorization);
    if (!token) return null;
    if (await this.isAdmin(token)) return { kind: "admin" };
    // Looked up by hash: timing can reveal at most something about a SHA-256 of a 256-bit
    // random token, which does not help guess the token.
    const hash = sha256(token);
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

  private async isAdmin(token: string): Promise<boolean> {
    if (this.adminToken) return sameSecret(token, this.adminToken);
    // Read each time: ensureAdminToken may run after this object is made.
    const stored = await this.store.adminTokenHash();
    return stored !== null && stored.length === 32 && timingSafeEqual(sha256(token), stored);
  }
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or undefined. */
function bearer(header: string | null): string | undefined {
  const m = header?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
  return m?.[1];
}
