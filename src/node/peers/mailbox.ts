/**
 * The node's mail loop: while it has a relay and a handle there, it asks the relay for mail
 * (the relay answers at once when there is some; else it answers empty when some arrives, or
 * after a few seconds, and the node asks again), judges each envelope in order (inbound.ts) and acknowledges them, so the relay
 * deletes them. A relay that cannot be reached is tried again with backoff.
 */
import { MAIL_WAIT_MAX_S, MailNotice } from "../../protocol/trust-api";
import { receive } from "./inbound";
import { publishNodeCard } from "./own-nodes";
import type { PeerService } from "./service";

const IDLE_CHECK_MS = 5_000;
const BACKOFF_MAX_MS = 30_000;

/** The relay gave up on an envelope this node sent: said in the log, counted on the peer. */
function undeliverable(svc: PeerService, raw: unknown): void {
  const n = MailNotice.safeParse(raw);
  if (!n.success) return;
  const row = svc.store.byHandle(n.data.to);
  if (row) svc.store.undelivered(row.fp);
  svc.deps.log(`peer: envelope ${n.data.envelope_id} to ${n.data.to} was not delivered: ${n.data.reason}`);
}

export function runMailbox(svc: PeerService): { stop(): void } {
  let stopped = false;
  let wake = () => {};
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  svc.kick = () => wake();
  void (async () => {
    let backoff = 1000;
    let lastError = "";
    while (!stopped) {
      // Whether this node's card is on its relay (then its owner's nodes write to it, handle or
      // not). Asked each round, as `cw setup` may move it; a card published once is not sent again.
      let published = false;
      try {
        published = svc.deps.relay() ? await publishNodeCard(svc) : false;
      } catch (e) {
        svc.deps.log(`peer: could not publish this node's card: ${(e as Error).message}; trying again`);
      }
      if (!svc.handle() && !published) {
        await pause(IDLE_CHECK_MS);
        continue;
      }
      try {
        const link = svc.link();
        const { mail, notices = [] } = await link.fetchMail(MAIL_WAIT_MAX_S);
        for (const m of mail) {
          // One envelope that breaks something must not hold up the rest, nor be fetched forever.
          await receive(svc, m.envelope).catch((e) => svc.deps.log(`peer: envelope ${m.seq} from the relay: ${(e as Error).stack ?? e}`));
        }
        for (const n of notices) undeliverable(svc, n.notice);
        if (mail.length || notices.length) await link.ack(mail.map((m) => m.seq), notices.map((n) => n.seq));
        backoff = 1000;
        lastError = "";
      } catch (e) {
        const why = (e as Error).message;
        if (why !== lastError) svc.deps.log(`peer: mail from the relay: ${why}; trying again`);
        lastError = why;
        await pause(backoff);
        backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      }
    }
  })();
  return {
    stop() {
      stopped = true;
      wake();
    },
  };
}
