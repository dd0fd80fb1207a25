/**
 * Handles and their cards. A node claims `name@<this relay's host>` with its signed card and a
 * fresh claim signed by the same key (first come; the same key may claim again). Anyone may
 * read a card, without a token: at `/handles/<name>/.well-known/agent-card.json` and
 * `GET /api/v1/handles/<name>`. The relay checks signatures on the way in, but readers must not
 * trust it: they verify the card themselves (src/identity/card.ts).
 */
import type { Hono } from "hono";
import { verifyCard, verifyClaim } from "../../identity";
import { HANDLE_RE, HandleName } from "../../protocol/agent-card";
import { ClaimRequest } from "../../protocol/trust-api";
import type { RelayTrust } from "../store/trust";
import { answer, body, callingNode, relayHost, TrustApiError } from "../trust/respond";

export function registerHandleRoutes(app: Hono<any>, store: RelayTrust, baseUrl: string | undefined): void {
  app.post(
    "/api/v1/handles",
    answer(async (c) => {
      const node = callingNode(c);
      const req = await body(c, ClaimRequest);
      const card = verifyCard(req.card);
      if ("error" in card) throw new TrustApiError(400, "bad_card", card.error, "make the card with this cw (cw id claim <name>), signed by the key it names");
      const handle = card.identity.handle;
      if (!HANDLE_RE.test(handle)) throw new TrustApiError(400, "bad_card", `${handle} is not a handle`, "a node publishes its own card at /api/v1/node-cards");
      const [, name, host] = HANDLE_RE.exec(handle)!;
      const mine = relayHost(c, baseUrl);
      if (host !== mine) throw new TrustApiError(400, "wrong_host", `${handle} is not a handle of this relay (${mine})`, `claim name@${mine}`);
      if (!verifyClaim(req.claim, card.keys.ed25519, handle, node)) throw new TrustApiError(403, "bad_claim", "the claim is not signed by the card's key for this node, or is not recent", "claim again with `cw id claim <name>`; check this machine's clock");
      const r = await store.claim(name!, node, card.identity.fingerprint, JSON.stringify(card.card));
      if ("error" in r) throw new TrustApiError(409, "handle_taken", `${handle} is already held by another key`, "pick another name; a handle stays with the key that claimed it first");
      return c.json({ handle, reclaimed: r.reclaimed }, 201);
    }),
  );

  const card = async (name: string) => {
    if (!HandleName.safeParse(name).success) throw new TrustApiError(400, "bad_request", `${JSON.stringify(name)} is not a handle name`, "a handle's name is lower-case letters, digits and hyphens");
    const row = await store.handle(name);
    if (!row) throw new TrustApiError(404, "not_found", `no handle ${name} on this relay`, "check the spelling; its owner claims it with `cw id claim <name>`");
    return JSON.parse(row.card) as unknown;
  };
  app.get("/api/v1/handles/:name", answer(async (c) => c.json({ card: await card(c.req.param("name") ?? "") })));
  app.get("/handles/:name/.well-known/agent-card.json", answer(async (c) => c.json((await card(c.req.param("name") ?? "")) as object)));
}
