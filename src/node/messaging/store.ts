/**
 * Durable messages: inboxes, requests and replies in SQLite (messages.db in the data dir).
 * Every message is on disk before the sender hears "sent" (durable()), so a crash right after
 * loses nothing; read state is kept per inbox (each stored message has one recipient).
 *
 * Why commits do not wait for the disk themselves (synchronous = NORMAL): in WAL mode a commit
 * then only appends to messages.db-wal, and durable() makes it last with one fdatasync of that
 * file, run off the main thread and shared by every commit made meanwhile (group-commit.ts).
 * With synchronous = FULL each commit cost the main thread a flush of its own: 1.6-2.2k
 * messages a second at most, the node serving nothing else meanwhile. SQLite still flushes the
 * WAL before each checkpoint copies it into the database.
 */
import { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { closeSync, fdatasync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Message, Party } from "../../protocol";
import { GroupCommit } from "./group-commit";

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

export function newId(prefix: "msg" | "req"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

export class MessageStore {
  private db: Database;
  private readonly commits = new GroupCommit(() => this.flush());
  /** In WAL mode: the -wal file, opened for flushing it. */
  private walFd: number | undefined;
  private readonly wal: boolean;

  constructor(private readonly path: string) {
    this.db = new Database(path, { create: true, strict: true });
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
  }

  insert(m: { id: string; kind: Message["kind"]; from: Party | null; to: Party | null; body: string; request_id?: string; status?: Message["status"]; expires_at?: number }): Message {
    const row: Row = {
      id: m.id,
      kind: m.kind,
      from_id: m.from?.id ?? null,
      from_name: m.from?.name ?? null,
      from_node: m.from?.node ?? null,
      to_id: m.to?.id ?? null,
      to_name: m.to?.name ?? null,
      to_node: m.to?.node ?? null,
      body: m.body,
      created_at: new Date().toISOString(),
      read: 0,
      request_id: m.request_id ?? null,
      status: m.status ?? null,
      expires_at: m.expires_at ?? null,
    };
    this.db
      .query(
        `INSERT INTO messages (id, kind, from_id, from_name, from_node, to_id, to_name, to_node, body, created_at, read, request_id, status, expires_at)
         VALUES ($id, $kind, $from_id, $from_name, $from_node, $to_id, $to_name, $to_node, $body, $created_at, $read, $request_id, $status, $expires_at)`,
      )
      .run(row as never);
    return toMessage(row);
  }

  /** Several messages in one transaction (a broadcast is all or nothing). */
  insertMany(ms: Parameters<MessageStore["insert"]>[0][]): Message[] {
    return this.db.transaction(() => ms.map((m) => this.insert(m)))();
  }

  get(id: string): (Message & { expires_at: number | null }) | undefined {
    const r = this.db.query("SELECT * FROM messages WHERE id = ?").get(id) as Row | null;
    return r ? { ...toMessage(r), expires_at: r.expires_at } : undefined;
  }

  setStatus(id: string, status: NonNullable<Message["status"]>): void {
    this.db.query("UPDATE messages SET status = ? WHERE id = ?").run(status, id);
  }

  /** The newest `tail` messages of an inbox, oldest first; optionally marks them read. */
  inbox(sessionId: number, tail: number, unreadOnly: boolean, markRead: boolean): { messages: Message[]; unread: number } {
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
    return this.wal ? this.commits.durable() : Promise.resolve();
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

  /** One flush of the WAL: every commit appended before it began is on disk when it ends. */
  private flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        if (this.walFd === undefined) {
          this.walFd = openSync(`${this.path}-wal`, "r");
          // The -wal file's name must last too: flush the directory that holds it, once.
          const dir = openSync(dirname(this.path), "r");
          try {
            fsyncSync(dir);
          } finally {
            closeSync(dir);
          }
        }
      } catch {
        // No -wal file to flush (it should exist while the database is open): a checkpoint
        // flushes the WAL, copies it into the database and flushes that.
        try {
          this.db.exec("PRAGMA wal_checkpoint(FULL)");
          resolve();
        } catch (e) {
          reject(e);
        }
        return;
      }
      fdatasync(this.walFd, (e) => (e ? reject(e) : resolve()));
    });
  }

  close(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    this.db.close();
  }
}
