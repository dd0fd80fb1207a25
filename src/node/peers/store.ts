/**
 * Peers in SQLite (peers.db in the data dir): each key this node knows by handle, its card, the
 * pairing state, the sequence numbers both ways, and what was refused from it; the envelope ids
 * seen lately (replays); and this node's own handle.
 */
import { Database } from "bun:sqlite";
import type { SeenStore } from "../../identity";
import type { PeerInfo } from "../../protocol";
import { openPrivateDatabase } from "../../store/private-db";

export type PeerStateName = PeerInfo["state"];
export type RefusalReason = keyof PeerInfo["refused"];

export interface PeerRow {
  fp: string;
  handle: string;
  card: string;
  state: PeerStateName;
  updated_at: string;
  seq_out: number;
  seq_in: number;
  sent: number;
  received: number;
  r_tampered: number;
  r_replayed: number;
  r_stale: number;
  r_unpaired: number;
  undelivered: number;
}

export class PeerStore implements SeenStore {
  private db: Database;

  constructor(path: string) {
    this.db = openPrivateDatabase(path);
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 2000;");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
      CREATE TABLE IF NOT EXISTS peers (
        fp TEXT PRIMARY KEY, handle TEXT NOT NULL, card TEXT NOT NULL, state TEXT NOT NULL, updated_at TEXT NOT NULL,
        seq_out INTEGER NOT NULL DEFAULT 0, seq_in INTEGER NOT NULL DEFAULT 0, sent INTEGER NOT NULL DEFAULT 0, received INTEGER NOT NULL DEFAULT 0,
        r_tampered INTEGER NOT NULL DEFAULT 0, r_replayed INTEGER NOT NULL DEFAULT 0, r_stale INTEGER NOT NULL DEFAULT 0, r_unpaired INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS peers_handle ON peers(handle);
      CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, ts INTEGER NOT NULL);
    `);
    // Added with relays' outbound queues: databases from before get the column.
    const cols = this.db.query("PRAGMA table_info(peers)").all() as { name: string }[];
    if (!cols.some((c) => c.name === "undelivered")) this.db.exec("ALTER TABLE peers ADD COLUMN undelivered INTEGER NOT NULL DEFAULT 0");
  }

  meta(key: string): string | null {
    return (this.db.query("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | null)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db.query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  get(fp: string): PeerRow | null {
    return this.db.query("SELECT * FROM peers WHERE fp = ?").get(fp) as PeerRow | null;
  }

  /** The latest key known under a handle (a handle stays with one key on its relay). */
  byHandle(handle: string): PeerRow | null {
    return this.db.query("SELECT * FROM peers WHERE handle = ? ORDER BY updated_at DESC LIMIT 1").get(handle) as PeerRow | null;
  }

  /** The latest row of one of the owner's nodes, by its name (whatever host it was reached at). */
  byNodeName(node: string): PeerRow | null {
    return this.db.query("SELECT * FROM peers WHERE substr(handle, 1, ?) = ? ORDER BY updated_at DESC LIMIT 1").get(node.length + 6, `node:${node}@`) as PeerRow | null;
  }

  all(): PeerRow[] {
    return this.db.query("SELECT * FROM peers ORDER BY handle").all() as PeerRow[];
  }

  count(state: PeerStateName): number {
    return (this.db.query("SELECT count(*) AS n FROM peers WHERE state = ?").get(state) as { n: number }).n;
  }

  upsert(fp: string, handle: string, card: string, state: PeerStateName): PeerRow {
    this.db
      .query("INSERT INTO peers (fp, handle, card, state, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (fp) DO UPDATE SET handle = excluded.handle, card = excluded.card, state = excluded.state, updated_at = excluded.updated_at")
      .run(fp, handle, card, state, new Date().toISOString());
    return this.get(fp)!;
  }

  setState(fp: string, state: PeerStateName): void {
    this.db.query("UPDATE peers SET state = ?, updated_at = ? WHERE fp = ?").run(state, new Date().toISOString(), fp);
  }

  /** The next sequence number to send to this peer (stored before the envelope leaves). */
  nextSeq(fp: string): number {
    return (this.db.query("UPDATE peers SET seq_out = seq_out + 1 WHERE fp = ? RETURNING seq_out").get(fp) as { seq_out: number }).seq_out;
  }

  undelivered(fp: string): void {
    this.db.query("UPDATE peers SET undelivered = undelivered + 1 WHERE fp = ?").run(fp);
  }

  countSent(fp: string): void {
    this.db.query("UPDATE peers SET sent = sent + 1 WHERE fp = ?").run(fp);
  }

  accepted(fp: string, seq: number): void {
    this.db.query("UPDATE peers SET seq_in = ?, received = received + 1 WHERE fp = ?").run(seq, fp);
  }

  refused(fp: string | null, reason: RefusalReason): void {
    const changed = fp ? this.db.query(`UPDATE peers SET r_${reason} = r_${reason} + 1 WHERE fp = ?`).run(fp).changes : 0;
    if (!changed) this.setMeta("refused_strangers", String(Number(this.meta("refused_strangers") ?? 0) + 1));
  }

  remember(id: string, ts: number): boolean {
    return this.db.query("INSERT INTO seen (id, ts) VALUES (?, ?) ON CONFLICT (id) DO NOTHING").run(id, ts).changes === 1;
  }

  forgetBefore(ts: number): void {
    this.db.query("DELETE FROM seen WHERE ts < ?").run(ts);
  }

  close(): void {
    this.db.close();
  }
}
