/**
 * Node cards: each node of this relay publishes its own card here (its handle the node address
 * `node:<name>@<host>`), with a fresh claim signed by the card's key for its own name. That a node
 * has one says it takes sealed, signed envelopes from its owner's other nodes; a node from before
 * (no card) is reached the old way, through the relay's tunnel. The relay checks the signatures
 * on the way in, and nodes check them again when they read a card.
 */
import type { Hono } from "hono";
import { verifyCard, verifyClaim } from "../../identity";
import { NODE_ADDRESS_RE } from "../../protocol/agent-card";
import { NodeCardRequest } from "../../protocol/trust-api";
import type { Identity } from "../auth";
import type { RelayTrust } from "../store/trust";
import { answer, body, callingNode, relayHost, TrustApiError } from "../trust/respond";

export function registerNodeCardRoutes(app: Hono<any>, store: RelayTrust, baseUrl: string | undefined): void {
  app.post(
    "/api/v1/node-cards",
    answer(async (c) => {
      const node = callingNode(c);
      const req = await body(c, NodeCardRequest);
      const card = verifyCard(req.card);
      if ("error" in card) throw new TrustApiError(400, "bad_card", card.error, "make the card with this cw (the node publishes it by itself), signed by the key it names");
      const [, name, host] = NODE_ADDRESS_RE.exec(card.identity.handle) ?? [];
      if (name !== node || host !== relayHost(c, baseUrl)) throw new TrustApiError(400, "wrong_host", `the card speaks for ${card.identity.handle}, not node:${node}@${relayHost(c, baseUrl)}`, "a node publishes only its own card, for this relay");
      if (!verifyClaim(req.claim, card.keys.ed25519, card.identity.handle, node)) throw new TrustApiError(403, "bad_claim", "the claim is not signed by the card's key for this node, or is not recent", "check this machine's clock");
      await store.setNodeCard(node, card.keys.fingerprint, JSON.stringify(card.card));
      return c.json({ node, card: card.card }, 201);
    }),
  );

  // Any caller with a token of this relay (a node, a person, the operator): the key a node's
  // owner seals to. Without a card, 404: that node is older, and is reached the old way.
  app.get(
    "/api/v1/node-cards/:node",
    answer(async (c) => {
      if (!(c.get("who" as never) as Identity | null)) throw new TrustApiError(401, "unauthorized", "this needs a token of this relay", "call it from a node registered with this relay (cw setup)");
      const node = c.req.param("node") ?? "";
      const row = await store.nodeCard(node);
      if (!row) throw new TrustApiError(404, "not_found", `node ${node} has published no card`, "it runs a cw without end-to-end messages between nodes, or has not started since it was upgraded");
      return c.json({ node, card: JSON.parse(row.card) as unknown });
    }),
  );
}
