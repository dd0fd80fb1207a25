/**
 * The node's side of the relay's handle and mail API (src/relay/routes/handles.ts, mail.ts):
 * claiming a handle, reading a card, posting an envelope, taking and acknowledging mail.
 * Replies are checked against protocol/trust-api.ts; the relay's refusals become errors with
 * its hint.
 */
import type { z } from "zod";
import { ProtocolError } from "../../protocol";
import { AckMailResponse, CardResponse, ClaimResponse, FetchMailResponse, NodeCardResponse, PostMailResponse, relayBaseFor, TrustError } from "../../protocol/trust-api";
import { personToken, type RelaySettings } from "../../config/relay";

export class RelayLink {
  constructor(readonly settings: RelaySettings) {}

  /** This relay's host: what its handles end in. */
  get host(): string {
    return new URL(this.settings.url).host.toLowerCase();
  }

  private async call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown, opts: { base?: string; token?: boolean | string; timeoutMs?: number } = {}): Promise<z.output<S>> {
    const url = `${opts.base ?? this.settings.url}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { ...(opts.token !== false ? { Authorization: `Bearer ${typeof opts.token === "string" ? opts.token : this.settings.token}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch (e) {
      throw new ProtocolError("unavailable", `cannot reach the relay at ${opts.base ?? this.settings.url}: ${(e as Error).message}`, "check that the relay runs (`cw nodes` says whether this node is connected)");
    }
    const json = (await res.json().catch(() => null)) as unknown;
    if (!res.ok) {
      const e = TrustError.safeParse(json);
      const code = res.status === 404 ? "not_found" : res.status === 409 ? "conflict" : "relay_refused";
      if (e.success) throw new ProtocolError(code, `relay: ${e.data.message}`, e.data.hint);
      throw new ProtocolError("relay_refused", `the relay answered ${method} ${path} with HTTP ${res.status}`, "the relay may be older than this cw: upgrade it");
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ProtocolError("relay_refused", `the relay's answer to ${method} ${path} is not what this cw expects`, "the relay and this cw may be of different versions");
    return parsed.data;
  }

  claim(card: unknown, claim: unknown) {
    return this.call("POST", "/api/v1/handles", ClaimResponse, { card, claim });
  }

  /**
   * The card of `name@host`, read from that host's relay (this relay when the host is its own),
   * without a token: cards are public, and the caller verifies them.
   */
  async card(name: string, host: string): Promise<unknown> {
    const base = host === this.host ? this.settings.url : relayBaseFor(host);
    return (await this.call("GET", `/api/v1/handles/${encodeURIComponent(name)}`, CardResponse, undefined, { base, token: false })).card;
  }

  /**
   * Posts an envelope. One to another node of the owner's goes with the owner's token (a person's,
   * when relay.toml has one): the relay lets it through where the tunnel would have let the owner.
   */
  post(envelope: unknown, asOwner = false) {
    return this.call("POST", "/api/v1/mail", PostMailResponse, { envelope }, asOwner ? { token: personToken(this.settings) } : {});
  }

  publishNodeCard(card: unknown, claim: unknown) {
    return this.call("POST", "/api/v1/node-cards", NodeCardResponse, { card, claim });
  }

  /** Another node's card on this relay, or null when it has none (an older node). */
  async nodeCard(node: string): Promise<unknown> {
    try {
      return (await this.call("GET", `/api/v1/node-cards/${encodeURIComponent(node)}`, NodeCardResponse)).card;
    } catch (e) {
      if (e instanceof ProtocolError && e.code === "not_found") return null;
      throw e;
    }
  }

  fetchMail(waitS: number) {
    return this.call("GET", `/api/v1/mail?wait=${waitS}`, FetchMailResponse, undefined, { timeoutMs: (waitS + 10) * 1000 });
  }

  ack(seqs: number[], notices: number[] = []) {
    return this.call("POST", "/api/v1/mail/ack", AckMailResponse, { seqs, ...(notices.length ? { notices } : {}) });
  }
}
