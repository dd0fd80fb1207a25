/**
 * Mail between peers, store and forward: a node posts an envelope for a handle of this relay,
 * the relay keeps it until the handle's node takes it and acknowledges it, and then deletes it.
 * A GET with nothing waiting is held up to MAIL_WAIT_MAX_S and answered (empty) as soon as mail
 * arrives, and the node asks again. The sender must hold the handle it
 * writes from; what the envelope says is for its recipient alone. An envelope for another
 * relay's handle is forwarded there (trust/federation.ts).
 */
import type { Hono } from "hono";
import { HANDLE_RE } from "../../protocol/agent-card";
import { AckMailRequest, MAIL_WAIT_MAX_S, MAILBOX_MAX, PostMailRequest } from "../../protocol/trust-api";
import type { TrustStore } from "../trust/store";
import { forward } from "../trust/federation";
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
export function registerMailRoutes(app: Hono<any>, store: TrustStore, baseUrl: string | undefined): (toName: string, envelope: unknown) => number {
  const bells = new Doorbells();
  store.expire(KEEP_MS);
  const deliver = (toName: string, envelope: unknown): number => {
    const to = store.handle(toName);
    if (!to) throw new TrustApiError(404, "not_found", `no handle ${toName} on this relay`, "the peer's handle may have been mistyped");
    if (store.mailCount(toName) >= MAILBOX_MAX) throw new TrustApiError(429, "mailbox_full", `${toName} has ${MAILBOX_MAX} envelopes waiting`, "its node has not fetched its mail; try again later");
    const seq = store.putMail(toName, JSON.stringify(envelope));
    bells.ring(to.node);
    return seq;
  };

  app.post(
    "/api/v1/mail",
    answer(async (c) => {
      const node = callingNode(c);
      const { envelope } = await body(c, PostMailRequest);
      const mine = relayHost(c, baseUrl);
      const [, fromName, fromHost] = HANDLE_RE.exec(envelope.from.handle)!;
      const from = fromHost === mine ? store.handle(fromName!) : null;
      if (!from || from.node !== node || from.fingerprint !== envelope.from.fp) throw new TrustApiError(403, "not_your_handle", `this node does not hold ${envelope.from.handle} with that key`, "claim a handle first: cw id claim <name>");
      const [, toName, toHost] = HANDLE_RE.exec(envelope.to.handle)!;
      if (toHost !== mine) {
        await forward(envelope, toHost!);
        return c.json({ stored: true, seq: 0 }, 201);
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
      if (!mail.length && wait > 0) await bells.wait(node, wait * 1000);
      return c.json({ mail: mail.map((m) => ({ seq: m.seq, envelope: JSON.parse(m.envelope) as unknown })) });
    }),
  );

  app.post(
    "/api/v1/mail/ack",
    answer(async (c) => {
      const node = callingNode(c);
      const { seqs } = await body(c, AckMailRequest);
      return c.json({ deleted: store.ack(node, seqs) });
    }),
  );
  return deliver;
}
