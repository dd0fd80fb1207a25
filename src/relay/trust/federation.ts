/**
 * Relay to relay: envelopes for another relay's handles are forwarded to it over HTTP(S)
 * (`POST /api/v1/federation/mail` there), and that relay takes one only when the sender's
 * handle, on the sender's own relay, publishes a card whose key signed the envelope. Neither
 * relay can read an envelope, and neither can make one its recipient would accept: that needs
 * the sender's private key, and the recipient checks the key it pinned when it paired.
 */
import { signedBy, verifyCard } from "../../identity";
import type { Envelope } from "../../identity";
import { HANDLE_RE } from "../../protocol/agent-card";
import { CardResponse, type EnvelopeWire, PostMailResponse, relayBaseFor, TrustError } from "../../protocol/trust-api";
import { TrustApiError } from "./respond";

const TIMEOUT_MS = 10_000;

async function request(url: string, init: RequestInit): Promise<{ status: number; json: unknown }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    return { status: res.status, json: await res.json().catch(() => null) };
  } catch (e) {
    throw new TrustApiError(502, "relay_unreachable", `cannot reach ${new URL(url).host}: ${(e as Error).message}`, "the other relay may be down; try again later");
  }
}

/**
 * A failed hand-over, and whether to try it again later: the other relay could not be reached,
 * failed (5xx) or asked us to slow down (429); or it refused the envelope itself (4xx), which
 * trying again does not change.
 */
export class ForwardError extends TrustApiError {
  constructor(
    status: 404 | 429 | 502,
    code: string,
    message: string,
    hint: string,
    readonly retry: boolean,
  ) {
    super(status, code, message, hint);
  }
}

/** Hands an envelope to the relay of its recipient's host; throws ForwardError (its refusal passed back as is). */
export async function forward(envelope: EnvelopeWire, host: string): Promise<void> {
  let r: { status: number; json: unknown };
  try {
    r = await request(`${relayBaseFor(host)}/api/v1/federation/mail`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ envelope }) });
  } catch (e) {
    const t = e as TrustApiError;
    throw new ForwardError(502, t.code, t.message, t.hint, true);
  }
  if (PostMailResponse.safeParse(r.json).success) return;
  const retry = r.status >= 500 || r.status === 429;
  const e = TrustError.safeParse(r.json);
  if (e.success) throw new ForwardError(r.status === 404 ? 404 : r.status === 429 ? 429 : 502, e.data.error, `${host}: ${e.data.message}`, e.data.hint, retry);
  throw new ForwardError(502, "relay_refused", `${host} answered HTTP ${r.status}, not as a codewire relay`, "check the handle's host", retry);
}

/**
 * Senders' keys as their relays published them lately, by handle: asking the sender's relay for
 * its card on every envelope was most of this relay's work per federated envelope (an HTTP round
 * trip and a card check). A handle stays with the key that claimed it first, so a key seen for it
 * stays right; an entry is kept SENDER_TTL_MS all the same, so a handle its relay drops is not
 * honoured for longer than that. Bounded.
 */
const senders = new Map<string, { fp: string; ed25519: Uint8Array; until: number }>();
const SENDER_TTL_MS = 5 * 60_000;

/** Throws unless the sender's relay publishes, for the sender's handle, the key that signed `envelope`. */
export async function checkSender(envelope: EnvelopeWire): Promise<void> {
  const known = senders.get(envelope.from.handle);
  if (known && known.until > Date.now() && known.fp === envelope.from.fp) {
    if (signedBy(envelope as Envelope, known.ed25519)) return;
    throw new TrustApiError(403, "bad_signature", `the envelope is not signed by the key its relay publishes for ${envelope.from.handle}`, "it was forged or changed on the way");
  }
  const [, name, host] = HANDLE_RE.exec(envelope.from.handle)!;
  const r = await request(`${relayBaseFor(host!)}/api/v1/handles/${encodeURIComponent(name!)}`, { method: "GET" });
  const body = CardResponse.safeParse(r.json);
  if (!body.success) throw new TrustApiError(403, "unknown_sender", `${host} publishes no card for ${envelope.from.handle}`, "the sender must claim its handle on its own relay");
  const card = verifyCard(body.data.card);
  if ("error" in card || card.identity.handle !== envelope.from.handle || card.keys.fingerprint !== envelope.from.fp || !signedBy(envelope as Envelope, card.keys.ed25519)) {
    throw new TrustApiError(403, "bad_signature", `the envelope is not signed by the key ${host} publishes for ${envelope.from.handle}`, "it was forged or changed on the way");
  }
  if (senders.size >= 4096) senders.clear();
  senders.set(envelope.from.handle, { fp: card.keys.fingerprint, ed25519: card.keys.ed25519, until: Date.now() + SENDER_TTL_MS });
}
