/**
 * Handles, node cards and mail in SQLite (`<data dir>/trust.db`, beside relay.db), for a relay
 * that runs alone (trust.ts has the interface and what each call means). Every call is answered
 * at once; the interface is async for PostgreSQL's sake.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { openPrivateDatabase } from "../../store/private-db";
import { type HandleRow, nodeMailbox, type OutboundRow, type RelayTrust } from "./trust";

type Box = { seq: number; envelope: string };
type Card = { node: string; fingerprint: string; card: string };

export class SqliteTrust implements RelayTrust {
  readonly shared = false;
  private db: Database;

  constructor(dataDir: string) {
    // Made here: a relay's data dir may not exist yet.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = openPrivateDatabase(join(dataDir, "trust.db"));
    // FULL: a sender told "stored" must find its envelope still there after a power cut.
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 2000;");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS handles (name TEXT PRIMARY KEY, node TEXT NOT NULL, fingerprint TEXT NOT NULL, card TEXT NOT NULL, claimed_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS mail (seq INTEGER PRIMARY KEY AUTOINCREMENT, handle TEXT NOT NULL, envelope TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS mail_handle ON mail(handle, seq);
      CREATE TABLE IF NOT EXISTS outbound (seq INTEGER PRIMARY KEY AUTOINCREMENT, host TEXT NOT NULL, sender TEXT NOT NULL, envelope TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, last_error TEXT);
      CREATE INDEX IF NOT EXISTS outbound_host ON outbound(host, seq);
      CREATE TABLE IF NOT EXISTS notices (seq INTEGER PRIMARY KEY AUTOINCREMENT, handle TEXT NOT NULL, notice TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS node_cards (node TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, card TEXT NOT NULL, updated_at TEXT NOT NULL);
    `);
  }

  private handleNow(name: string): HandleRow | null {
    return this.db.query("SELECT * FROM handles WHERE name = ?").get(name) as HandleRow | null;
  }

  async handle(name: string): Promise<HandleRow | null> {
    return this.handleNow(name);
  }

  async claim(name: string, node: string, fingerprint: string, card: string): Promise<{ reclaimed: boolean } | { error: "taken" }> {
    return this.db
      .transaction(() => {
        const old = this.handleNow(name);
        if (old && old.fingerprint !== fingerprint) return { error: "taken" as const };
        this.db
          .query("INSERT INTO handles (name, node, fingerprint, card, claimed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET node = excluded.node, card = excluded.card, claimed_at = excluded.claimed_at")
          .run(name, node, fingerprint, card, new Date().toISOString());
        return { reclaimed: old !== null };
      })
      .immediate();
  }

  async handlesOf(node: string): Promise<string[]> {
    return (this.db.query("SELECT name FROM handles WHERE node = ?").all(node) as { name: string }[]).map((r) => r.name);
  }

  async setNodeCard(node: string, fingerprint: string, card: string): Promise<void> {
    this.db
      .query("INSERT INTO node_cards (node, fingerprint, card, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET fingerprint = excluded.fingerprint, card = excluded.card, updated_at = excluded.updated_at")
      .run(node, fingerprint, card, new Date().toISOString());
  }

  async nodeCard(node: string): Promise<Card | null> {
    return this.db.query("SELECT node, fingerprint, card FROM node_cards WHERE node = ?").get(node) as Card | null;
  }

  async mailCount(box: string): Promise<number> {
    return (this.db.query("SELECT count(*) AS n FROM mail WHERE handle = ?").get(box) as { n: number }).n;
  }

  async putMail(box: string, envelope: string): Promise<number> {
    return Number(this.db.query("INSERT INTO mail (handle, envelope, created_at) VALUES (?, ?, ?)").run(box, envelope, Date.now()).lastInsertRowid);
  }

  async mailFor(node: string, limit = 100): Promise<Box[]> {
    return this.db.query("SELECT seq, envelope FROM mail WHERE handle IN (SELECT name FROM handles WHERE node = ?) OR handle = ? ORDER BY seq LIMIT ?").all(node, nodeMailbox(node), limit) as Box[];
  }

  async ack(node: string, seqs: number[]): Promise<number> {
    if (!seqs.length) return 0;
    return this.db
      .query(`DELETE FROM mail WHERE seq IN (${seqs.map(() => "?").join(",")}) AND (handle IN (SELECT name FROM handles WHERE node = ?) OR handle = ?)`)
      .run(...seqs, node, nodeMailbox(node)).changes;
  }

  async expire(ms: number): Promise<void> {
    this.db.query("DELETE FROM mail WHERE created_at < ?").run(Date.now() - ms);
  }

  async queueOutbound(host: string, sender: string, envelope: string, now = Date.now()): Promise<number> {
    return Number(this.db.query("INSERT INTO outbound (host, sender, envelope, created_at, next_at) VALUES (?, ?, ?, ?, ?)").run(host, sender, envelope, now, now).lastInsertRowid);
  }

  async hasOutbound(host: string): Promise<boolean> {
    return this.db.query("SELECT 1 FROM outbound WHERE host = ? LIMIT 1").get(host) !== null;
  }

  async outboundHeads(): Promise<OutboundRow[]> {
    return this.db.query("SELECT * FROM outbound WHERE seq IN (SELECT min(seq) FROM outbound GROUP BY host) ORDER BY next_at").all() as OutboundRow[];
  }

  async claimOutbound(seq: number, expectNextAt: number, leaseUntil: number): Promise<boolean> {
    return this.db.query("UPDATE outbound SET next_at = ? WHERE seq = ? AND next_at = ?").run(leaseUntil, seq, expectNextAt).changes === 1;
  }

  async deferOutbound(seq: number, nextAt: number, error: string): Promise<void> {
    this.db.query("UPDATE outbound SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE seq = ?").run(nextAt, error, seq);
  }

  async dropOutbound(seq: number): Promise<void> {
    this.db.query("DELETE FROM outbound WHERE seq = ?").run(seq);
  }

  async putNotice(name: string, notice: string): Promise<void> {
    this.db.query("INSERT INTO notices (handle, notice, created_at) VALUES (?, ?, ?)").run(name, notice, Date.now());
  }

  async noticesFor(node: string, limit = 100): Promise<{ seq: number; notice: string }[]> {
    return this.db.query("SELECT seq, notice FROM notices WHERE handle IN (SELECT name FROM handles WHERE node = ?) ORDER BY seq LIMIT ?").all(node, limit) as { seq: number; notice: string }[];
  }

  async ackNotices(node: string, seqs: number[]): Promise<number> {
    if (!seqs.length) return 0;
    return this.db.query(`DELETE FROM notices WHERE seq IN (${seqs.map(() => "?").join(",")}) AND handle IN (SELECT name FROM handles WHERE node = ?)`).run(...seqs, node).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
