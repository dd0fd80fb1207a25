/**
 * Browser sign-ins: an opaque random id in a cookie, kept (by its hash) with the CSRF token of
 * that sign-in and when it expires. `cw web` keeps them here, in memory: restarting it signs
 * everyone out, which is the safe way to fail. A relay keeps them in its store
 * (relay-signins.ts), so that all its replicas know them. Signing out revokes at once.
 */
import { newToken, sameSecret, sha256 } from "../sys/secrets";

/** How long a sign-in lasts, whatever happens meanwhile. */
export const SIGNIN_TTL_MS = 12 * 60 * 60 * 1000;
/** Beyond this many live sign-ins the oldest is dropped: a flood of sign-ins cannot grow memory. */
export const MAX_SIGNINS = 1000;

export interface SignIn {
  csrf: string;
  expiresAt: number;
}

/** Where sign-ins are kept: this process's memory, or a relay's store. */
export interface SignInBook {
  /** A new sign-in: the cookie's value (given out once) and its record. */
  create(): Promise<{ id: string; signIn: SignIn }>;
  /** The sign-in a cookie's value stands for, if it is live. */
  get(id: string | undefined): Promise<SignIn | undefined>;
  revoke(id: string | undefined): Promise<void>;
}

export class SignIns implements SignInBook {
  private live = new Map<string, SignIn>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new sign-in: the cookie's value (given out once) and its record. */
  async create(): Promise<{ id: string; signIn: SignIn }> {
    this.sweep();
    while (this.live.size >= MAX_SIGNINS) this.live.delete(this.live.keys().next().value!);
    const id = newToken();
    const signIn = { csrf: newToken(), expiresAt: this.now() + SIGNIN_TTL_MS };
    this.live.set(key(id), signIn);
    return { id, signIn };
  }

  /** The sign-in a cookie's value stands for, if it is live. */
  async get(id: string | undefined): Promise<SignIn | undefined> {
    if (!id) return undefined;
    const k = key(id);
    const s = this.live.get(k);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.live.delete(k);
      return undefined;
    }
    return s;
  }

  async revoke(id: string | undefined): Promise<void> {
    if (id) this.live.delete(key(id));
  }

  /** Whether `given` is this sign-in's CSRF token (constant time). */
  static csrfOk(s: SignIn, given: string | undefined): boolean {
    return given !== undefined && given !== "" && sameSecret(given, s.csrf);
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, s] of this.live) if (s.expiresAt <= t) this.live.delete(k);
  }
}

/** Kept by hash, so a copy of this process's memory (or the store) does not hold usable cookies. */
export function key(id: string): string {
  return sha256(id).toString("hex");
}

/** The cookie's value from a Cookie header. */
export function cookieValue(header: string | null | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
