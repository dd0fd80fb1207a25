/**
 * Signing a browser in with a code, as the device flow signs in a node: a browser that has no
 * credential (a phone, say) asks for a short code and shows it; a person already signed in
 * elsewhere types that code into their app to approve; the asking browser, polling with a
 * secret only it holds, then gets its own sign-in. Codes are few, short-lived and used once.
 */
import { randomInt } from "node:crypto";
import { newToken, sha256 } from "../sys/secrets";

export const CODE_TTL_MS = 10 * 60 * 1000;
/** Waiting codes beyond this are refused: asking cannot grow memory. */
export const MAX_PENDING = 50;
/** No 0/O, 1/I/L: a code is read off one screen and typed into another. */
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

interface Pending {
  code: string;
  expiresAt: number;
  approved: boolean;
}

export type PollResult = "pending" | "approved" | "expired" | "unknown";

/** Where waiting codes are kept: this process's memory, or a relay's store (relay-signins.ts). */
export interface CodeBook {
  /** A new code (XXXX-XXXX) and the secret its browser polls with; undefined when too many wait. */
  start(): Promise<{ code: string; pollId: string; expiresAt: number } | undefined>;
  /** A signed-in person approves the code they read off the other browser; false if none waits. */
  approve(typed: string): Promise<boolean>;
  /** The asking browser's poll: "approved" once, then the code is gone. */
  poll(pollId: string): Promise<PollResult>;
}

export class CodeSignIns implements CodeBook {
  /** By the hash of the poll secret. */
  private pending = new Map<string, Pending>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new code (XXXX-XXXX) and the secret its browser polls with; undefined when too many wait. */
  async start(): Promise<{ code: string; pollId: string; expiresAt: number } | undefined> {
    this.sweep();
    if (this.pending.size >= MAX_PENDING) return undefined;
    const code = newCode();
    const pollId = newToken();
    const expiresAt = this.now() + CODE_TTL_MS;
    this.pending.set(key(pollId), { code, expiresAt, approved: false });
    return { code, pollId, expiresAt };
  }

  /** A signed-in person approves the code they read off the other browser; false if none waits. */
  async approve(typed: string): Promise<boolean> {
    this.sweep();
    const code = normalize(typed);
    for (const p of this.pending.values()) {
      if (!p.approved && p.code === code) {
        p.approved = true;
        return true;
      }
    }
    return false;
  }

  /** The asking browser's poll: "approved" once, then the code is gone. */
  async poll(pollId: string): Promise<PollResult> {
    const k = key(pollId);
    const p = this.pending.get(k);
    if (!p) return "unknown";
    if (p.expiresAt <= this.now()) {
      this.pending.delete(k);
      return "expired";
    }
    if (!p.approved) return "pending";
    this.pending.delete(k);
    return "approved";
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, p] of this.pending) if (p.expiresAt <= t) this.pending.delete(k);
  }
}

/** A random code, XXXX-XXXX. */
export function newCode(): string {
  let code = "";
  for (let i = 0; i < 8; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** "abcd efgh", "ABCD-EFGH" and "abcdefgh" are the same code. */
export function normalize(typed: string): string {
  const c = typed.toUpperCase().replace(/[^A-Z0-9]/g, "");
  return c.length === 8 ? `${c.slice(0, 4)}-${c.slice(4)}` : c;
}

export function key(pollId: string): string {
  return sha256(pollId).toString("hex");
}
