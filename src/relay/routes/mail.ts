/**
 * Mail between peers, store and forward: a node posts an envelope for a handle of this relay,
 * the relay keeps it until the handle's node takes it and acknowledges it, and then deletes it.
 * A GET with nothing waiting is held up to MAIL_WAIT_MAX_S and answered (empty) as soon as mail
 * arrives, and the node asks again. The sender must hold the handle it
 * writes from; what the envelope says is for its recipient alone. An envelope for another
 * relay's handle is forwarded there (trust/federation.ts).
 */
import type { Hono } from "hono";
import { signedBy, verifyCard, type Envelope } from "../../identity";
import { HANDLE_RE, NODE_ADDRESS_RE } from "../../protocol/agent-card";
import type { EnvelopeWire } from "../../protocol/trust-api";
import type { Identity, RelayAuth } from "../auth";
import { AckMailRequest, MAIL_WAIT_MAX_S, MAILBOX_MAX, PostMailRequest } from "../../protocol/trust-api";
import { nodeMailbox, type TrustStore } from "../trust/store";
import type { FederationQueue } from "../trust/outbound";
import { MailLimits } from "../trust/mail-limits";
import { answer, body, callingNode, relayHost, TrustApiError } from "../trust/respond";

/** A relay keeps an envelope this long for a node that does not come for it. */
const KEEP_MS = 7 * 24 * 3600_000;

/** Fetches waiting for mail, by node: a post wakes its recipient's. */
class Doorbells {
  private waiting = new Map<string, Set<() => void>>();
  wait(node: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiting.get(node) ?? new Set();
      this.waiting.set(node, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }
  ring(node: string): void {
    for (const done of [...(this.waiting.get(node) ?? [])]) done();
  }
}

/** Adds the mail routes; returns how to put an envelope into one of this relay's mailboxes. */
export function registerMailRoutes(app: Hono<any>, store: TrustStore, baseUrl: string | undefined, auth: RelayAuth | undefined, limits: MailLimits, queue: FederationQueue): (toName: string, envelope: EnvelopeWire) => number {
  const bells = new Doorbells();
  store.expire(KEEP_MS);
  queue.onNotice = (name) => {
    const h = store.handle(name);
    if (h) bells.ring(h.node);
  };
  // Without the relay's policy (tests of these routes alone) a node's token reaches only itself.
  const mayReach = (who: Identity, node: string) => (auth ? auth.mayReach(who, node) : Promise.resolve(who.kind !== "node" || who.name === node));

  /**
   * Between one owner's nodes (node addresses both ends): no handle and no pairing. The relay
   * takes the envelope when the sending node's published card has the key that signed it, and
   * when the caller may reach the recipient node as it could through the tunnel (a person's
   * token, or a node's under the relay's node access and grants).
   */
  const postNodeMail = async (who: Identity, envelope: EnvelopeWire, mine: string): Promise<number> => {
    const [, fromNode, fromHost] = NODE_ADDRESS_RE.exec(envelope.from.handle) ?? [];
    const [, toNode, toHost] = NODE_ADDRESS_RE.exec(envelope.to.handle) ?? [];
    if (!fromNode || !toNode) throw new TrustApiError(400, "bad_request", "an envelope between nodes has node addresses at both ends", "address a peer by its handle, and your own nodes as node:<name>@<relay host>");
    if (fromHost !== mine || toHost !== mine) throw new TrustApiError(400, "wrong_host", `envelopes between nodes stay on one relay (${mine})`, "reach another relay's nodes through their handles (cw peer add)");
    if (who.kind === "node" && who.name !== fromNode) throw new TrustApiError(403, "not_your_handle", `this token is node ${who.name}'s, not ${fromNode}'s`, "a node posts only as itself");
    if (who.kind === "node" && !(await mayReach(who, toNode))) throw new TrustApiError(403, "forbidden", `node ${who.name} may not reach node ${toNode}`, "grant it on the relay (cw relay grant), or send with a person's token");
    const published = store.nodeCard(fromNode);
    const card = published ? verifyCard(JSON.parse(published.card)) : null;
    if (!card || "error" in card || card.keys.fingerprint !== envelope.from.fp || !signedBy(envelope as Envelope, card.keys.ed25519)) {
      throw new TrustApiError(403, "bad_signature", `the envelope is not signed by the key node ${fromNode} published`, "the node publishes its card when it starts with this relay; restart it if its key changed");
    }
    if (!store.nodeCard(toNode)) throw new TrustApiError(404, "not_found", `node ${toNode} has published no card`, "it runs an older cw: reach it through the relay's tunnel");
    const box = nodeMailbox(toNode);
    limits.check(box, envelope.from.fp, envelope.from.handle);
    if (store.mailCount(box) >= MAILBOX_MAX) throw new TrustApiError(429, "mailbox_full", `node ${toNode} has ${MAILBOX_MAX} envelopes waiting`, "its node has not fetched its mail; try again later");
    const seq = store.putMail(box, JSON.stringify(envelope));
    bells.ring(toNode);
    return seq;
  };
  const deliver = (toName: string, envelope: EnvelopeWire): number => {
    const to = store.handle(toName);
    if (!to) throw new TrustApiError(404, "not_found", `no handle ${toName} on this relay`, "the peer's handle may have been mistyped");
    limits.check(toName, envelope.from.fp, envelope.from.handle);
    if (store.mailCount(toName) >= MAILBOX_MAX) throw new TrustApiError(429, "mailbox_full", `${toName} has ${MAILBOX_MAX} envelopes waiting`, "its node has not fetched its mail; try again later");
    const seq = store.putMail(toName, JSON.stringify(envelope));
    bells.ring(to.node);
    return seq;
  };

  app.post(
    "/api/v1/mail",
    answer(async (c) => {
      const who = c.get("who" as never) as Identity | null;
      const { envelope } = await body(c, PostMailRequest);
      const mine = relayHost(c, baseUrl);
      if (who && (NODE_ADDRESS_RE.test(envelope.from.handle) || NODE_ADDRESS_RE.test(envelope.to.handle))) return c.json({ stored: true, seq: await postNodeMail(who, envelope, mine) }, 201);
      const node = callingNode(c);
      const [, fromName, fromHost] = HANDLE_RE.exec(envelope.from.handle)!;
      const from = fromHost === mine ? store.handle(fromName!) : null;
      if (!from || from.node !== node || from.fingerprint !== envelope.from.fp) throw new TrustApiError(403, "not_your_handle", `this node does not hold ${envelope.from.handle} with that key`, "claim a handle first: cw id claim <name>");
      const [, toName, toHost] = HANDLE_RE.exec(envelope.to.handle)!;
      if (toHost !== mine) {
        const { queued } = await queue.send(envelope, toHost!, fromName!);
        return c.json({ stored: true, seq: 0, queued }, queued ? 202 : 201);
      }
      const seq = deliver(toName!, envelope);
      return c.json({ stored: true, seq }, 201);
    }),
  );

  app.get(
    "/api/v1/mail",
    answer(async (c) => {
      const node = callingNode(c);
      const wait = Math.min(MAIL_WAIT_MAX_S, Math.max(0, Number(c.req.query("wait") ?? 0) || 0));
      const mail = store.mailFor(node);
      // Nothing yet: wait for the doorbell, then answer empty and let the node ask again. Mail is
      // handed out only in answer to a request made after it arrived.
      const notices = store.noticesFor(node);
      if (!mail.length && !notices.length && wait > 0) await bells.wait(node, wait * 1000);
      return c.json({ mail: mail.map((m) => ({ seq: m.seq, envelope: JSON.parse(m.envelope) as unknown })), notices: notices.map((n) => ({ seq: n.seq, notice: JSON.parse(n.notice) as unknown })) });
    }),
  );

  app.post(
    "/api/v1/mail/ack",
    answer(async (c) => {
      const node = callingNode(c);
      const { seqs, notices } = await body(c, AckMailRequest);
      if (notices?.length) store.ackNotices(node, notices);
      return c.json({ deleted: store.ack(node, seqs) });
    }),
  );
  return deliver;
}
