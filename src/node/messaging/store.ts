/**
 * Durable messages: inboxes, requests and replies in SQLite (messages.db in the data dir).
 * Every message is on disk before the sender hears "sent" (durable()), so a crash right after
 * loses nothing; read state is kept per inbox (each stored message has one recipient).
 *
 * Where a message becomes durable: the commit log beside the database (log.ts), not SQLite.
 * insert() keeps the row in memory, where get() and setStatus() see it at once; the next group
 * commit (group-commit.ts) writes every row stored since the last one to the log in one write,
 * and one fdatasync, off the main thread, answers every sender in the batch. The rows reach
 * SQLite later, many to a transaction: when something reads or updates the database (apply()
 * first, so readers see every message stored), every APPLY_MS, or when APPLY_ROWS are waiting.
 *
 * Why: a commit to SQLite per message cost 70-150 µs of the main thread (measured with this
 * table: a transaction of one row, against 6-17 µs a row in transactions of 64) and flushed ~20 KiB of WAL, since each
 * message dirties 4-5 pages (the table, two indexes, the AUTOINCREMENT counter). With 8 senders
 * in flight a group commit held 1-2 messages, so SQLite set the rate: 2-7k messages a second.
 * A record in the log is the message's JSON (~300 bytes) over preallocated space.
 *
 * SQLite itself runs with synchronous = NORMAL (its WAL is flushed at checkpoints only): the log
 * holds every message until SQLite's copy is known to be on disk. When the log is full, SQLite
 * takes every row waiting, its WAL is flushed and the log starts over; when the node starts, the
 * log's records are written into SQLite again (INSERT OR IGNORE skips the ones it has).
 *
 * A full disk: the log's space was taken when it was made, so writing to it would succeed
 * where SQLite later could not store the message. So a group commit first asks the file system
 * for free space, and with less than MIN_FREE_BYTES its senders hear that the disk is full and
 * their messages are dropped (nothing stored). If SQLite still fails to take rows that the log
 * holds, they stay in memory (get() sees them) and are tried again: they are not lost.
 */
import { Database } from "bun:sqlite";
import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import type { Message, Party } from "../../protocol";
import { openPrivateDatabase } from "../../store/private-db";
import { GroupCommit } from "./group-commit";
import { MessageLog } from "./log";

interface Row {
  id: string;
  kind: Message["kind"];
  from_id: number | null;
  from_name: string | null;
  /** Set when the sender is a session on another node (its id is that node's). */
  from_node: string | null;
  to_id: number | null;
  to_name: string | null;
  /** Set for a reply to a session on another node: it is in no inbox here. */
  to_node: string | null;
  body: string;
  created_at: string;
  read: number;
  request_id: string | null;
  status: Message["status"] | null;
  expires_at: number | null;
}

function toMessage(r: Row): Message {
  const party = (id: number | null, name: string | null, node: string | null): Party | null => (id === null ? null : { id, ...(name ? { name } : {}), ...(node ? { node } : {}) });
  return {
    id: r.id,
    kind: r.kind,
    from: party(r.from_id, r.from_name, r.from_node ?? null),
    to: party(r.to_id, r.to_name, r.to_node ?? null),
    body: r.body,
    created_at: r.created_at,
    read: r.read === 1,
    ...(r.request_id ? { request_id: r.request_id } : {}),
    ...(r.status ? { status: r.status } : {}),
  };
}

/**
 * Ids handed out per millisecond of the clock before the ids run ahead of it (they stay unique and
 * in order; the clock catches up).
 */
const IDS_PER_MS = 64;
/** A stored id further ahead of the clock than this is not one of ours (ids were once random). */
const MAX_ID_LEAD_MS = 24 * 3600 * 1000;

function idValue(id: string): number {
  return parseInt(id.slice(id.indexOf("_") + 1), 16);
}

type Insert = { id: string; kind: Message["kind"]; from: Party | null; to: Party | null; body: string; request_id?: string; status?: Message["status"]; expires_at?: number };

/** How long rows may wait in memory before SQLite takes them, and how many may. */
const APPLY_MS = 25;
const APPLY_ROWS = 512;
/** Less free space than this in the data dir, and messages are refused as on a full disk. */
const MIN_FREE_BYTES = 256 * 1024;

/** The error a sender hears when the disk has no room for its message. */
class DiskFullError extends Error {
  readonly code = "ENOSPC";
}

const INSERT_SQL = `INSERT OR IGNORE INTO messages (id, kind, from_id, from_name, from_node, to_id, to_name, to_node, body, created_at, read, request_id, status, expires_at)
  VALUES ($id, $kind, $from_id, $from_name, $from_node, $to_id, $to_name, $to_node, $body, $created_at, $read, $request_id, $status, $expires_at)`;

export class MessageStore {
  private db: Database;
  /** Regrouping: senders come back for their next message (one connection each), see group-commit.ts. */
  private readonly commits = new GroupCommit(() => this.flush(), true);
  private readonly log: MessageLog;
  /** In WAL mode: the -wal file, opened for flushing it before the log starts over. */
  private walFd: number | undefined;
  private readonly wal: boolean;
  /** Groups of rows (one insert or insertMany each) stored but not yet written to SQLite. */
  private pending: Row[][] = [];
  /** The same rows by id, for get() and setStatus() before they reach SQLite. */
  private pendingById = new Map<string, Row>();
  /** Groups not yet in the log (the next group commit writes them). */
  private unlogged: Row[][] = [];
  private applyTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingRows = 0;
  /** The newest id's number (see newId). */
  private lastId = 0;

  constructor(private readonly path: string) {
    this.db = openPrivateDatabase(path);
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 2000;");
    this.wal = (this.db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode === "wal";
    // Outside WAL mode (a file system without shared memory) each commit flushes by itself.
    this.db.exec(`PRAGMA synchronous = ${this.wal ? "NORMAL" : "FULL"};`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS messages (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT UNIQUE NOT NULL,
      kind TEXT NOT NULL,
      from_id INTEGER, from_name TEXT,
      to_id INTEGER, to_name TEXT,
      body TEXT NOT NULL,
      created_at TEXT NOT NULL,
      read INTEGER NOT NULL DEFAULT 0,
      request_id TEXT,
      status TEXT,
      expires_at INTEGER
    );
    CREATE INDEX IF NOT EXISTS messages_inbox ON messages(to_id, seq);`);
    // Added with the relay: databases from before get the columns (NULL: a local party).
    const columns = new Set((this.db.query("PRAGMA table_info(messages)").all() as { name: string }[]).map((c) => c.name));
    for (const c of ["from_node", "to_node"]) if (!columns.has(c)) this.db.exec(`ALTER TABLE messages ADD COLUMN ${c} TEXT`);
    const { log, payloads, headerValid } = MessageLog.open(`${path}.log`);
    this.log = log;
    // An empty log of a known generation (the node stopped cleanly or had nothing to store)
    // takes records where it is; anything else starts over.
    if (payloads.length || !headerValid) this.recover(payloads);
    // New ids follow the newest stored one, should the clock have gone back since it was made.
    const newest = this.db.query("SELECT id FROM messages ORDER BY seq DESC LIMIT 1").get() as { id: string } | null;
    const n = newest ? idValue(newest.id) : NaN;
    if (n > 0 && n <= (Date.now() + MAX_ID_LEAD_MS) * IDS_PER_MS) this.lastId = n;
  }

  /**
   * A new message id: msg_ or req_ and 12 hex digits, each larger than the last (the clock in
   * milliseconds times IDS_PER_MS, or the last id plus one). In order, rows land at the end of
   * the id index instead of on a random page of it: SQLite taking 128 rows went from 6-7 to
   * 2.6 µs of CPU a row (21-23 to 6-8 µs of the main thread's time), and each transaction
   * rewrites a few pages of the index instead of one per row. Unique by construction, where
   * random ids could collide (and INSERT OR IGNORE would drop the second).
   */
  newId(prefix: "msg" | "req"): string {
    this.lastId = Math.max(this.lastId + 1, Date.now() * IDS_PER_MS);
    return `${prefix}_${this.lastId.toString(16).padStart(12, "0")}`;
  }

  /**
   * Writes the log's records into SQLite (a crash may have kept them from it), makes SQLite's
   * copy durable, and starts the log over.
   */
  private recover(payloads: Uint8Array[]): void {
    if (payloads.length) {
      const decoder = new TextDecoder();
      const groups: Row[][] = [];
      for (const p of payloads) {
        try {
          groups.push(JSON.parse(decoder.decode(p)) as Row[]);
        } catch {
          break; // checked by its checksum, so not expected: keep what came before
        }
      }
      const insert = this.db.query(INSERT_SQL);
      // A reply on disk means its request was answered, whatever SQLite kept of the request.
      const answered = this.db.query("UPDATE messages SET status = 'replied' WHERE id = ? AND status = 'pending'");
      this.db.transaction(() => {
        for (const g of groups)
          for (const r of g) {
            insert.run(r as never);
            if (r.kind === "reply" && r.request_id) answered.run(r.request_id);
          }
      })();
    }
    this.sqliteDurableNow();
    this.log.restart();
    this.log.syncNow();
  }

  insert(m: Insert): Message {
    return toMessage(this.hold([m])[0]!);
  }

  /** Several messages as one record and one transaction (a broadcast is all or nothing). */
  insertMany(ms: Insert[]): Message[] {
    return this.hold(ms).map(toMessage);
  }

  private hold(ms: Insert[]): Row[] {
    const created_at = new Date().toISOString();
    const rows = ms.map(
      (m): Row => ({
        id: m.id,
        kind: m.kind,
        from_id: m.from?.id ?? null,
        from_name: m.from?.name ?? null,
        from_node: m.from?.node ?? null,
        to_id: m.to?.id ?? null,
        to_name: m.to?.name ?? null,
        to_node: m.to?.node ?? null,
        body: m.body,
        created_at,
        read: 0,
        request_id: m.request_id ?? null,
        status: m.status ?? null,
        expires_at: m.expires_at ?? null,
      }),
    );
    this.pending.push(rows);
    this.unlogged.push(rows);
    this.pendingRows += rows.length;
    for (const r of rows) this.pendingById.set(r.id, r);
    return rows;
  }

  /**
   * Writes the rows held in memory to SQLite, in one transaction. Returns false when SQLite would
   * not take them (a full disk): they stay held, to be tried again.
   */
  private apply(): boolean {
    if (this.applyTimer !== undefined) clearTimeout(this.applyTimer);
    this.applyTimer = undefined;
    if (!this.pending.length) return true;
    const groups = this.pending;
    try {
      const insert = this.db.query(INSERT_SQL);
      this.db.transaction(() => {
        for (const g of groups) for (const r of g) insert.run(r as never);
      })();
    } catch {
      this.applyTimer = setTimeout(() => this.apply(), APPLY_MS * 40);
      return false;
    }
    this.pending = [];
    this.pendingRows = 0;
    this.pendingById.clear();
    return true;
  }

  /** SQLite takes the held rows soon, many at a time. */
  private applySoon(): void {
    if (this.pendingRows >= APPLY_ROWS) this.apply();
    else if (this.pending.length && this.applyTimer === undefined) this.applyTimer = setTimeout(() => this.apply(), APPLY_MS);
  }

  /** Forgets groups that could not be made durable: their senders hear why, nothing is stored. */
  private drop(groups: Row[][]): void {
    const held = new Set(this.pending);
    const gone = new Set(groups);
    // Groups SQLite already took (a reader came first) come back out of it.
    const applied = groups.filter((g) => !held.has(g)).flat();
    this.pending = this.pending.filter((g) => !gone.has(g));
    this.pendingRows = this.pending.reduce((n, g) => n + g.length, 0);
    for (const g of groups) for (const r of g) this.pendingById.delete(r.id);
    if (!applied.length) return;
    try {
      const del = this.db.query("DELETE FROM messages WHERE id = ?");
      this.db.transaction(() => {
        for (const r of applied) del.run(r.id);
      })();
    } catch {
      /* a full disk may refuse even that */
    }
  }

  get(id: string): (Message & { expires_at: number | null }) | undefined {
    const held = this.pendingById.get(id);
    if (held) return { ...toMessage(held), expires_at: held.expires_at };
    const r = this.db.query("SELECT * FROM messages WHERE id = ?").get(id) as Row | null;
    return r ? { ...toMessage(r), expires_at: r.expires_at } : undefined;
  }

  setStatus(id: string, status: NonNullable<Message["status"]>): void {
    const held = this.pendingById.get(id);
    if (held) {
      held.status = status;
      return;
    }
    this.apply();
    this.db.query("UPDATE messages SET status = ? WHERE id = ?").run(status, id);
  }

  /** The newest `tail` messages of an inbox, oldest first; optionally marks them read. */
  inbox(sessionId: number, tail: number, unreadOnly: boolean, markRead: boolean): { messages: Message[]; unread: number } {
    this.apply(); // (on a full disk, messages held in memory are missing here until it succeeds)
    const rows = this.db
      .query(`SELECT * FROM (SELECT * FROM messages WHERE to_id = ? AND to_node IS NULL ${unreadOnly ? "AND read = 0" : ""} ORDER BY seq DESC LIMIT ?) ORDER BY seq`)
      .all(sessionId, tail) as Row[];
    if (markRead && rows.length) {
      const ids = rows.filter((r) => r.read === 0).map((r) => r.id);
      if (ids.length) this.db.query(`UPDATE messages SET read = 1 WHERE id IN (${ids.map(() => "?").join(",")})`).run(...ids);
    }
    const unread = (this.db.query("SELECT COUNT(*) AS n FROM messages WHERE to_id = ? AND to_node IS NULL AND read = 0").get(sessionId) as { n: number }).n;
    return { messages: rows.map(toMessage), unread };
  }

  /** Resolves once every message stored so far is on disk. */
  durable(): Promise<void> {
    return this.commits.durable();
  }

  /**
   * Resolves once every sender waiting in durable() has heard back (a stopping node answers
   * them before it closes the store).
   */
  async settled(): Promise<void> {
    await this.commits.settled();
    // Their answers are written in the turns that follow.
    await new Promise<void>((r) => setImmediate(r));
  }

  /**
   * One group commit: the rows stored since the last one go to the log in one write, and one
   * fdatasync of the log makes them all durable.
   */
  private async flush(): Promise<void> {
    const groups = this.unlogged;
    this.unlogged = [];
    if (!groups.length) return;
    try {
      if (this.freeBytes() < MIN_FREE_BYTES) throw new DiskFullError("ENOSPC: no space left on device (too little free space to store messages)");
      const encoder = new TextEncoder();
      const payloads = groups.map((g) => encoder.encode(JSON.stringify(g)));
      let size = 0;
      for (const p of payloads) size += 8 + p.length;
      if (!this.log.fits(size)) {
        // The log may start over once everything in it is in SQLite and SQLite's copy is on
        // disk. (These groups are not in the log yet: SQLite may take them too.)
        if (!this.apply()) throw new DiskFullError("ENOSPC: no space left on device (the database would not take the messages)");
        await this.sqliteDurable();
        this.log.restart();
      }
      this.log.append(this.log.encode(payloads));
    } catch (e) {
      this.drop(groups);
      throw e;
    }
    await this.log.sync();
    this.applySoon();
  }

  /** Free space where the database is, for an unprivileged writer; Infinity when unknown. */
  private freeBytes(): number {
    try {
      const s = statfsSync(dirname(this.path));
      return s.bavail * s.bsize;
    } catch {
      return Infinity;
    }
  }

  /** Flushes SQLite's WAL (every commit so far), off the main thread. */
  private sqliteDurable(): Promise<void> {
    if (!this.wal) return Promise.resolve(); // each commit was flushed (synchronous = FULL)
    const fd = this.walFile();
    if (fd === undefined) {
      this.db.exec("PRAGMA wal_checkpoint(FULL)");
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  }

  private sqliteDurableNow(): void {
    if (!this.wal) return;
    const fd = this.walFile();
    if (fd === undefined) this.db.exec("PRAGMA wal_checkpoint(FULL)");
    else fdatasyncSync(fd);
  }

  /**
   * The -wal file, opened once (SQLite keeps the same file while the database is open, and its
   * commits before a checkpoint are on disk once it is flushed; a checkpoint flushes the
   * database). Undefined while there is none.
   */
  private walFile(): number | undefined {
    if (this.walFd === undefined) {
      try {
        this.walFd = openSync(`${this.path}-wal`, "r");
      } catch {
        return undefined;
      }
      // The -wal file's name must last too: flush the directory that holds it, once.
      const dir = openSync(dirname(this.path), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.walFd;
  }

  close(): void {
    // Rows held in memory go to SQLite (on failure they are still in the log for the next start).
    // Once SQLite's copy is on disk the log is emptied, so the next start has nothing to replay.
    if (this.apply()) {
      try {
        this.sqliteDurableNow();
        this.log.restart();
        this.log.syncNow();
      } catch {
        /* the log keeps its records; the next start replays them */
      }
    }
    if (this.applyTimer !== undefined) clearTimeout(this.applyTimer);
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    this.log.close();
    this.db.close();
  }
}
