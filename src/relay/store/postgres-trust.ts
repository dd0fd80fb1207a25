/**
 * Handles, node cards and mail in PostgreSQL (migration 4), shared by every replica of a relay
 * (trust.ts has the interface and what each call means). A node may post on one replica and
 * fetch on another: `shared` tells the mail route to look again now and then while it waits,
 * as the doorbell that rings at once is only this process's. Conditional writes decide in one
 * statement (first-come claims, taking a turn in the outbound queue).
 */
import type { SQL } from "bun";
import { guard } from "./postgres";
import { type HandleRow, nodeMailbox, type OutboundRow, type RelayTrust } from "./trust";

type Box = { seq: number; envelope: string };

export class PostgresTrust implements RelayTrust {
  readonly shared = true;

  constructor(private readonly sql: SQL) {}

  async handle(name: string): Promise<HandleRow | null> {
    const [row] = await guard(this.sql`SELECT name, node, fingerprint, card, claimed_at FROM trust_handles WHERE name = ${name}`);
    return (row as HandleRow | undefined) ?? null;
  }

  async claim(name: string, node: string, fingerprint: string, card: string): Promise<{ reclaimed: boolean } | { error: "taken" }> {
    // One statement: a name held by another key is left as it is (no row comes back); the same
    // key's re-claim updates it (xmax is set on an updated row, 0 on a new one).
    const [row] = await guard(
      this.sql`INSERT INTO trust_handles (name, node, fingerprint, card, claimed_at) VALUES (${name}, ${node}, ${fingerprint}, ${card}, ${new Date().toISOString()})
        ON CONFLICT (name) DO UPDATE SET node = excluded.node, card = excluded.card, claimed_at = excluded.claimed_at WHERE trust_handles.fingerprint = excluded.fingerprint
        RETURNING (xmax <> 0) AS reclaimed`,
    );
    return row ? { reclaimed: Boolean(row.reclaimed) } : { error: "taken" };
  }

  async handlesOf(node: string): Promise<string[]> {
    return (await guard(this.sql`SELECT name FROM trust_handles WHERE node = ${node} ORDER BY name`)).map((r: { name: string }) => r.name);
  }

  async setNodeCard(node: string, fingerprint: string, card: string): Promise<void> {
    await guard(
      this.sql`INSERT INTO trust_node_cards (node, fingerprint, card, updated_at) VALUES (${node}, ${fingerprint}, ${card}, ${new Date().toISOString()})
        ON CONFLICT (node) DO UPDATE SET fingerprint = excluded.fingerprint, card = excluded.card, updated_at = excluded.updated_at`,
    );
  }

  async nodeCard(node: string): Promise<{ node: string; fingerprint: string; card: string } | null> {
    const [row] = await guard(this.sql`SELECT node, fingerprint, card FROM trust_node_cards WHERE node = ${node}`);
    return row ? { node: row.node, fingerprint: row.fingerprint, card: row.card } : null;
  }

  async mailCount(box: string): Promise<number> {
    const [row] = await guard(this.sql`SELECT count(*)::int AS n FROM trust_mail WHERE box = ${box}`);
    return Number(row.n);
  }

  async putMail(box: string, envelope: string): Promise<number> {
    const [row] = await guard(this.sql`INSERT INTO trust_mail (box, envelope, created_at) VALUES (${box}, ${envelope}, ${Date.now()}) RETURNING seq`);
    return Number(row.seq);
  }

  async mailFor(node: string, limit = 100): Promise<Box[]> {
    const rows = await guard(
      this.sql`SELECT seq, envelope FROM trust_mail WHERE box IN (SELECT name FROM trust_handles WHERE node = ${node}) OR box = ${nodeMailbox(node)} ORDER BY seq LIMIT ${limit}`,
    );
    return rows.map((r: { seq: unknown; envelope: string }) => ({ seq: Number(r.seq), envelope: r.envelope }));
  }

  async ack(node: string, seqs: number[]): Promise<number> {
    if (!seqs.length) return 0;
    const r = await guard(
      this.sql`DELETE FROM trust_mail WHERE seq IN ${this.sql(seqs)} AND (box IN (SELECT name FROM trust_handles WHERE node = ${node}) OR box = ${nodeMailbox(node)})`,
    );
    return r.count;
  }

  async expire(ms: number): Promise<void> {
    await guard(this.sql`DELETE FROM trust_mail WHERE created_at < ${Date.now() - ms}`);
  }

  async queueOutbound(host: string, sender: string, envelope: string, now = Date.now()): Promise<number> {
    const [row] = await guard(this.sql`INSERT INTO trust_outbound (host, sender, envelope, created_at, next_at) VALUES (${host}, ${sender}, ${envelope}, ${now}, ${now}) RETURNING seq`);
    return Number(row.seq);
  }

  async hasOutbound(host: string): Promise<boolean> {
    return (await guard(this.sql`SELECT 1 FROM trust_outbound WHERE host = ${host} LIMIT 1`)).length > 0;
  }

  async outboundHeads(): Promise<OutboundRow[]> {
    const rows = await guard(this.sql`SELECT * FROM trust_outbound WHERE seq IN (SELECT min(seq) FROM trust_outbound GROUP BY host) ORDER BY next_at`);
    return rows.map((r: Record<string, unknown>) => ({
      seq: Number(r.seq),
      host: String(r.host),
      sender: String(r.sender),
      envelope: String(r.envelope),
      created_at: Number(r.created_at),
      attempts: Number(r.attempts),
      next_at: Number(r.next_at),
      last_error: (r.last_error as string | null) ?? null,
    }));
  }

  async claimOutbound(seq: number, expectNextAt: number, leaseUntil: number): Promise<boolean> {
    return (await guard(this.sql`UPDATE trust_outbound SET next_at = ${leaseUntil} WHERE seq = ${seq} AND next_at = ${expectNextAt}`)).count === 1;
  }

  async deferOutbound(seq: number, nextAt: number, error: string): Promise<void> {
    await guard(this.sql`UPDATE trust_outbound SET attempts = attempts + 1, next_at = ${nextAt}, last_error = ${error} WHERE seq = ${seq}`);
  }

  async dropOutbound(seq: number): Promise<void> {
    await guard(this.sql`DELETE FROM trust_outbound WHERE seq = ${seq}`);
  }

  async putNotice(name: string, notice: string): Promise<void> {
    await guard(this.sql`INSERT INTO trust_notices (handle, notice, created_at) VALUES (${name}, ${notice}, ${Date.now()})`);
  }

  async noticesFor(node: string, limit = 100): Promise<{ seq: number; notice: string }[]> {
    const rows = await guard(this.sql`SELECT seq, notice FROM trust_notices WHERE handle IN (SELECT name FROM trust_handles WHERE node = ${node}) ORDER BY seq LIMIT ${limit}`);
    return rows.map((r: { seq: unknown; notice: string }) => ({ seq: Number(r.seq), notice: r.notice }));
  }

  async ackNotices(node: string, seqs: number[]): Promise<number> {
    if (!seqs.length) return 0;
    return (await guard(this.sql`DELETE FROM trust_notices WHERE seq IN ${this.sql(seqs)} AND handle IN (SELECT name FROM trust_handles WHERE node = ${node})`)).count;
  }

  /** The pool belongs to the relay's store, which closes it. */
  async close(): Promise<void> {}
}
