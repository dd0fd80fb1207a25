/**
 * A relay's sign-ins and sign-in codes, kept in its store (relay/store/web-signins.ts) instead
 * of its memory: with several replicas behind a load balancer, a browser's requests land on any
 * of them, so each must know every sign-in, and a sign-out must end it on all.
 */
import type { WebSignInRecords } from "../relay/store/web-signins";
import { newToken } from "../sys/secrets";
import { CODE_TTL_MS, type CodeBook, key as pollKey, MAX_PENDING, newCode, normalize, type PollResult } from "./code-signin";
import { key, MAX_SIGNINS, SIGNIN_TTL_MS, type SignIn, type SignInBook } from "./signins";

export class StoredSignIns implements SignInBook {
  constructor(private readonly records: WebSignInRecords) {}

  async create(): Promise<{ id: string; signIn: SignIn }> {
    const id = newToken();
    const csrf = newToken();
    const expiresAt = await this.records.create(key(id), csrf, SIGNIN_TTL_MS, MAX_SIGNINS);
    return { id, signIn: { csrf, expiresAt } };
  }

  async get(id: string | undefined): Promise<SignIn | undefined> {
    if (!id) return undefined;
    return (await this.records.get(key(id))) ?? undefined;
  }

  async revoke(id: string | undefined): Promise<void> {
    if (id) await this.records.revoke(key(id));
  }
}

export class StoredCodeSignIns implements CodeBook {
  constructor(private readonly records: WebSignInRecords) {}

  async start(): Promise<{ code: string; pollId: string; expiresAt: number } | undefined> {
    // A code already waiting (one in a billion-odd) is drawn again.
    for (let tries = 0; tries < 3; tries++) {
      const code = newCode();
      const pollId = newToken();
      const r = await this.records.startCode(pollKey(pollId), code, CODE_TTL_MS, MAX_PENDING);
      if (r === "too_many") return undefined;
      if (r !== "taken") return { code, pollId, expiresAt: r };
    }
    return undefined;
  }

  approve(typed: string): Promise<boolean> {
    return this.records.approveCode(normalize(typed));
  }

  poll(pollId: string): Promise<PollResult> {
    return this.records.pollCode(pollKey(pollId));
  }
}
