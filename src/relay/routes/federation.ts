/**
 * `POST /api/v1/federation/mail`: another relay hands over an envelope for one of this relay's
 * handles (no token: relays need no account with each other). It is stored only when the
 * sender's own relay publishes the key that signed it (trust/federation.ts).
 */
import type { Hono } from "hono";
import { HANDLE_RE } from "../../protocol/agent-card";
import { type EnvelopeWire, PostMailRequest } from "../../protocol/trust-api";
import { checkSender } from "../trust/federation";
import { answer, body, relayHost, TrustApiError } from "../trust/respond";

export function registerFederationRoutes(app: Hono<any>, baseUrl: string | undefined, deliver: (toName: string, envelope: EnvelopeWire) => Promise<number>): void {
  app.post(
    "/api/v1/federation/mail",
    answer(async (c) => {
      const { envelope } = await body(c, PostMailRequest);
      const mine = relayHost(c, baseUrl);
      if (!HANDLE_RE.test(envelope.from.handle) || !HANDLE_RE.test(envelope.to.handle)) throw new TrustApiError(400, "bad_request", "relays carry envelopes between handles only", "envelopes between one owner's nodes stay on their relay");
      const [, , fromHost] = HANDLE_RE.exec(envelope.from.handle)!;
      const [, toName, toHost] = HANDLE_RE.exec(envelope.to.handle)!;
      if (toHost !== mine) throw new TrustApiError(400, "wrong_host", `${envelope.to.handle} is not a handle of this relay (${mine})`, "send it to the relay of its host");
      if (fromHost === mine) throw new TrustApiError(400, "wrong_host", `${envelope.from.handle} is a handle of this relay`, "its node posts to /api/v1/mail with its own token");
      await checkSender(envelope);
      return c.json({ stored: true, seq: await deliver(toName!, envelope) }, 201);
    }),
  );
}
