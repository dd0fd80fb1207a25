import { mkdirSync } from "node:fs";
/**
 * Handles and mailboxes in SQLite (`<data dir>/trust.db`, beside relay.db): who claimed which
 * handle with which key and card, and the envelopes waiting for each handle's node. An
 * envelope is kept as the JSON it arrived as; its body is ciphertext the relay cannot open.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";

export interface HandleRow {
  name: string;
  node: string;
  fingerprint: string;
  card: string;
  claimed_at: string;
}

/**
 * The mailbox of a node's own envelopes (from its owner's other nodes) is kept under this name
 * beside the handles' ones: a handle's name has no colon, so the two cannot collide.
 */
export function nodeMailbox(node: string): string {
  return `node:${node}`;
}

export interface OutboundRow {
  seq: number;
  host: string;
  /** The sending handle's name on this relay (whom a notice goes to). */
  sender: string;
  envelope: string;
  created_at: number;
  attempts: number;
  next_at: number;
  last_error: string | null;
}

export class TrustStore {
  private db: Database;

  constructor(dataDir: string) {
    // On PostgreSQL the relay keeps nothing else here, so the directory may not exist yet. (Handles
    // and mail stay in this replica's own file: replicas do not share them yet.)
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = new Database(join(dataDir, "trust.db"), { create: true, strict: true });
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

  handle(name: string): HandleRow | null {
    return this.db.query("SELECT * FROM handles WHERE name = ?").get(name) as HandleRow | null;
  }

  /**
   * First come: a name held by another key is refused; the same key may claim it again (a new
   * card, or from another node of this relay). Returns whether it was a re-claim.
   */
  claim(name: string, node: string, fingerprint: string, card: string): { reclaimed: boolean } | { error: "taken" } {
    return this.db
      .transaction(() => {
        const old = this.handle(name);
        if (old && old.fingerprint !== fingerprint) return { error: "taken" as const };
        this.db
          .query("INSERT INTO handles (name, node, fingerprint, card, claimed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET node = excluded.node, card = excluded.card, claimed_at = excluded.claimed_at")
          .run(name, node, fingerprint, card, new Date().toISOString());
        return { reclaimed: old !== null };
      })
      .immediate();
  }

  /**
   * A node's own card: its key, and that it takes sealed envelopes from its owner's other nodes.
   * Only the node itself (its token) sets it; a new key replaces the old (the node's data dir was
   * made again), and the other nodes that pinned the old one refuse the new until told to forget.
   */
  setNodeCard(node: string, fingerprint: string, card: string): void {
    this.db
      .query("INSERT INTO node_cards (node, fingerprint, card, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET fingerprint = excluded.fingerprint, card = excluded.card, updated_at = excluded.updated_at")
      .run(node, fingerprint, card, new Date().toISOString());
  }

  nodeCard(node: string): { node: string; fingerprint: string; card: string } | null {
    return this.db.query("SELECT node, fingerprint, card FROM node_cards WHERE node = ?").get(node) as { node: string; fingerprint: string; card: string } | null;
  }

  /** Handles a node holds. */
  handlesOf(node: string): string[] {
    return (this.db.query("SELECT name FROM handles WHERE node = ?").all(node) as { name: string }[]).map((r) => r.name);
  }

  mailCount(handle: string): number {
    return (this.db.query("SELECT count(*) AS n FROM mail WHERE handle = ?").get(handle) as { n: number }).n;
  }

  putMail(handle: string, envelope: string): number {
    return Number(this.db.query("INSERT INTO mail (handle, envelope, created_at) VALUES (?, ?, ?)").run(handle, envelope, Date.now()).lastInsertRowid);
  }

  /** The oldest waiting envelopes of a node's handles, in the order they arrived. */
  mailFor(node: string, limit = 100): { seq: number; envelope: string }[] {
    return this.db
      .query("SELECT seq, envelope FROM mail WHERE handle IN (SELECT name FROM handles WHERE node = ?) OR handle = ? ORDER BY seq LIMIT ?")
      .all(node, nodeMailbox(node), limit) as { seq: number; envelope: string }[];
  }

  /** Deletes envelopes the node has taken (only its own). */
  ack(node: string, seqs: number[]): number {
    if (!seqs.length) return 0;
    return this.db
      .query(`DELETE FROM mail WHERE seq IN (${seqs.map(() => "?").join(",")}) AND (handle IN (SELECT name FROM handles WHERE node = ?) OR handle = ?)`)
      .run(...seqs, node, nodeMailbox(node)).changes;
  }

  // Envelopes for other relays that could not be handed over yet (trust/outbound.ts), oldest first
  // per host: a host's envelopes leave in the order they came, or its recipients refuse the
  // overtaken ones as replays.

  queueOutbound(host: string, sender: string, envelope: string, now = Date.now()): number {
    return Number(this.db.query("INSERT INTO outbound (host, sender, envelope, created_at, next_at) VALUES (?, ?, ?, ?, ?)").run(host, sender, envelope, now, now).lastInsertRowid);
  }

  hasOutbound(host: string): boolean {
    return this.db.query("SELECT 1 FROM outbound WHERE host = ? LIMIT 1").get(host) !== null;
  }

  /** Each host's oldest waiting envelope. */
  outboundHeads(): OutboundRow[] {
    return this.db.query("SELECT * FROM outbound WHERE seq IN (SELECT min(seq) FROM outbound GROUP BY host) ORDER BY next_at").all() as OutboundRow[];
  }

  deferOutbound(seq: number, nextAt: number, error: string): void {
    this.db.query("UPDATE outbound SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE seq = ?").run(nextAt, error, seq);
  }

  dropOutbound(seq: number): void {
    this.db.query("DELETE FROM outbound WHERE seq = ?").run(seq);
  }

  /** A notice for the node of handle `name` (an envelope it sent that was given up on). */
  putNotice(name: string, notice: string): void {
    this.db.query("INSERT INTO notices (handle, notice, created_at) VALUES (?, ?, ?)").run(name, notice, Date.now());
  }

  noticesFor(node: string, limit = 100): { seq: number; notice: string }[] {
    return this.db.query("SELECT seq, notice FROM notices WHERE handle IN (SELECT name FROM handles WHERE node = ?) ORDER BY seq LIMIT ?").all(node, limit) as { seq: number; notice: string }[];
  }

  ackNotices(node: string, seqs: number[]): number {
    if (!seqs.length) return 0;
    return this.db.query(`DELETE FROM notices WHERE seq IN (${seqs.map(() => "?").join(",")}) AND handle IN (SELECT name FROM handles WHERE node = ?)`).run(...seqs, node).changes;
  }

  /** Forgets envelopes older than `ms` (their recipients' nodes would refuse them as stale). */
  expire(ms: number): void {
    this.db.query("DELETE FROM mail WHERE created_at < ?").run(Date.now() - ms);
  }

  close(): void {
    this.db.close();
  }
}
