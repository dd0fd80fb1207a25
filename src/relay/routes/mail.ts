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
import { nodeMailbox, type RelayTrust } from "../store/trust";
import type { FederationQueue } from "../trust/outbound";
import { MailLimits } from "../trust/mail-limits";
import { answer, body, callingNode, relayHost, TrustApiError } from "../trust/respond";

/** A relay keeps an envelope this long for a node that does not come for it. */
const KEEP_MS = 7 * 24 * 3600_000;
/** How often a waiting fetch looks at a store other replicas write to. */
const POLL_SHARED_MS = 500;

/** Fetches waiting for mail, by node: a post wakes its recipient's. */
class Doorbells {
  private waiting = new Map<string, Set<() => void>>();
  /** Resolves true when rung, false after `ms`. */
  wait(node: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const set = this.waiting.get(node) ?? new Set();
      this.waiting.set(node, set);
      const done = (rung = true) => {
        clearTimeout(timer);
        set.delete(done);
        resolve(rung);
      };
      const timer = setTimeout(() => done(false), ms);
      set.add(done);
    });
  }
  ring(node: string): void {
    for (const done of [...(this.waiting.get(node) ?? [])]) done();
  }
}

/**
 * Cards verified once, by their exact text: a node sends many envelopes under one card, and
 * verifying it each time (JSON, schema, an Ed25519 signature) was a third of the relay's work
 * per envelope between nodes. A new card is new text, verified again. Bounded.
 */
class VerifiedCards {
  private cards = new Map<string, ReturnType<typeof verifyCard>>();
  verify(text: string): ReturnType<typeof verifyCard> {
    let v = this.cards.get(text);
    if (!v) {
      v = verifyCard(JSON.parse(text));
      if (this.cards.size >= 1024) this.cards.clear();
      this.cards.set(text, v);
    }
    return v;
  }
}

/** Adds the mail routes; returns how to put an envelope into one of this relay's mailboxes. */
export function registerMailRoutes(app: Hono<any>, store: RelayTrust, baseUrl: string | undefined, auth: RelayAuth | undefined, limits: MailLimits, queue: FederationQueue): (toName: string, envelope: EnvelopeWire) => Promise<number> {
  const bells = new Doorbells();
  const cards = new VerifiedCards();
  void store.expire(KEEP_MS).catch(() => {});
  queue.onNotice = (name) => {
    void store.handle(name).then((h) => h && bells.ring(h.node), () => {});
  };
  // Without the relay's policy (tests of these routes alone) a node's token reaches only itself.
  const mayReach = (who: Identity, node: string) => (auth ? auth.mayReach(who, node) : Promise.resolve(who.kind !== "node" || who.name === node));

  /**
   * Between one owner's nodes (node addresses both ends): no handle and no pairing. The relay
   * takes the envelope when the sending node's published card has the key that signed it, and
   * when the caller may reach the recipient node as it could through the tunnel (a person's
   * token, or a node's under the relay's node access and grants).
   */
  const postNodeMail = async (who: Identity, envelope: EnvelopeWire): Promise<number> => {
    const [, fromNode] = NODE_ADDRESS_RE.exec(envelope.from.handle) ?? [];
    const [, toNode] = NODE_ADDRESS_RE.exec(envelope.to.handle) ?? [];
    if (!fromNode || !toNode) throw new TrustApiError(400, "bad_request", "an envelope between nodes has node addresses at both ends", "address a peer by its handle, and your own nodes as node:<name>@<relay host>");
    // The hosts are as each node calls this relay (replicas without --base-url differ): a node
    // is this relay's by its name and the card stored under it, which is what is checked.
    if (who.kind === "node" && who.name !== fromNode) throw new TrustApiError(403, "not_your_handle", `this token is node ${who.name}'s, not ${fromNode}'s`, "a node posts only as itself");
    if (who.kind === "node" && !(await mayReach(who, toNode))) throw new TrustApiError(403, "forbidden", `node ${who.name} may not reach node ${toNode}`, "grant it on the relay (cw relay grant), or send with a person's token");
    const published = await store.nodeCard(fromNode);
    const card = published ? cards.verify(published.card) : null;
    if (!card || "error" in card || card.keys.fingerprint !== envelope.from.fp || !signedBy(envelope as Envelope, card.keys.ed25519)) {
      throw new TrustApiError(403, "bad_signature", `the envelope is not signed by the key node ${fromNode} published`, "the node publishes its card when it starts with this relay; restart it if its key changed");
    }
    if (!(await store.nodeCard(toNode))) throw new TrustApiError(404, "not_found", `node ${toNode} has published no card`, "it runs an older cw: reach it through the relay's tunnel");
    const box = nodeMailbox(toNode);
    limits.check(box, envelope.from.fp, envelope.from.handle);
    if ((await store.mailCount(box)) >= MAILBOX_MAX) throw new TrustApiError(429, "mailbox_full", `node ${toNode} has ${MAILBOX_MAX} envelopes waiting`, "its node has not fetched its mail; try again later");
    const seq = await store.putMail(box, JSON.stringify(envelope));
    bells.ring(toNode);
    return seq;
  };
  const deliver = async (toName: string, envelope: EnvelopeWire): Promise<number> => {
    const to = await store.handle(toName);
    if (!to) throw new TrustApiError(404, "not_found", `no handle ${toName} on this relay`, "the peer's handle may have been mistyped");
    limits.check(toName, envelope.from.fp, envelope.from.handle);
    if ((await store.mailCount(toName)) >= MAILBOX_MAX) throw new TrustApiError(429, "mailbox_full", `${toName} has ${MAILBOX_MAX} envelopes waiting`, "its node has not fetched its mail; try again later");
    const seq = await store.putMail(toName, JSON.stringify(envelope));
    bells.ring(to.node);
    return seq;
  };

  app.post(
    "/api/v1/mail",
    answer(async (c) => {
      const who = c.get("who" as never) as Identity | null;
      const { envelope } = await body(c, PostMailRequest);
      const mine = relayHost(c, baseUrl);
      if (who && (NODE_ADDRESS_RE.test(envelope.from.handle) || NODE_ADDRESS_RE.test(envelope.to.handle))) return c.json({ stored: true, seq: await postNodeMail(who, envelope) }, 201);
      const node = callingNode(c);
      const [, fromName, fromHost] = HANDLE_RE.exec(envelope.from.handle)!;
      const from = fromHost === mine ? await store.handle(fromName!) : null;
      if (!from || from.node !== node || from.fingerprint !== envelope.from.fp) throw new TrustApiError(403, "not_your_handle", `this node does not hold ${envelope.from.handle} with that key`, "claim a handle first: cw id claim <name>");
      const [, toName, toHost] = HANDLE_RE.exec(envelope.to.handle)!;
      if (toHost !== mine) {
        const { queued } = await queue.send(envelope, toHost!, fromName!);
        return c.json({ stored: true, seq: 0, queued }, queued ? 202 : 201);
      }
      const seq = await deliver(toName!, envelope);
      return c.json({ stored: true, seq }, 201);
    }),
  );

  app.get(
    "/api/v1/mail",
    answer(async (c) => {
      const node = callingNode(c);
      const wait = Math.min(MAIL_WAIT_MAX_S, Math.max(0, Number(c.req.query("wait") ?? 0) || 0));
      const mail = await store.mailFor(node);
      const notices = await store.noticesFor(node);
      // Nothing yet: wait for the doorbell, then answer empty and let the node ask again. Mail is
      // handed out only in answer to a request made after it arrived. A store shared with other
      // replicas is looked at every POLL_SHARED_MS too, as their posts ring no bell here.
      if (!mail.length && !notices.length && wait > 0) {
        const deadline = Date.now() + wait * 1000;
        if (!store.shared) await bells.wait(node, wait * 1000);
        else {
          while (Date.now() < deadline) {
            if (await bells.wait(node, Math.min(POLL_SHARED_MS, deadline - Date.now()))) break;
            if ((await store.mailFor(node, 1)).length || (await store.noticesFor(node, 1)).length) break;
          }
        }
      }
      return c.json({ mail: mail.map((m) => ({ seq: m.seq, envelope: JSON.parse(m.envelope) as unknown })), notices: notices.map((n) => ({ seq: n.seq, notice: JSON.parse(n.notice) as unknown })) });
    }),
  );

  app.post(
    "/api/v1/mail/ack",
    answer(async (c) => {
      const node = callingNode(c);
      const { seqs, notices } = await body(c, AckMailRequest);
      if (notices?.length) await store.ackNotices(node, notices);
      return c.json({ deleted: await store.ack(node, seqs) });
    }),
  );
  return deliver;
}
