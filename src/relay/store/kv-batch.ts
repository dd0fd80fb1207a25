/**
 * The relay's KV writes in SQLite, batched and made durable together (group commit).
 *
 * Every set and delete that arrives in one turn of the event loop runs in one transaction, in
 * arrival order: each still sees the ones before it, so set-if-absent and compare-and-delete keep
 * their meaning (of 16 racers one wins), and one refused (a quota) or failing (each write is one
 * statement, whole or not at all) leaves the others alone. A caller hears back only once a flush
 * of kv.db's WAL that began after its commit has finished: "stored" means on disk, as it would
 * with synchronous = FULL, but 64 clients' writes share one transaction and one fdatasync instead
 * of paying one each, and the flush runs off the main thread while the relay keeps serving.
 *
 * Committed but not yet flushed, a write is already visible to reads (as in the node's message
 * store): a reader may see a value a moment before its writer is told it is stored.
 */
import { closeSync, fdatasync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { GroupCommit } from "../../node/messaging/group-commit";

import { TurnBatches } from "./turn-batches";

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class KvWriteBatches {
  /**
   * The turn's writes as one batch (turn-batches.ts). Batches are not limited in number: one
   * commits while the flush that makes the previous one durable still runs.
   */
  private readonly batches = new TurnBatches<() => unknown, Outcome>((ops) => this.commit(ops), Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  /** Writes not yet answered. */
  private pending = 0;
  private readonly commits = new GroupCommit(() => this.flush());
  /** kv.db-wal, opened once for flushing it. */
  private walFd: number | undefined;

  /**
   * `checkpoint` copies kv.db's WAL into it and flushes both (when there is no -wal file to
   * flush); `transaction` runs a function in one immediate transaction of the store that the ops
   * write through.
   */
  constructor(
    private readonly path: string,
    private readonly checkpoint: () => void,
    private readonly transaction: (fn: () => void) => void,
  ) {}

  /** Runs `op` (a synchronous write of the store) in the next batch; resolves once it is on disk. */
  async run<T>(op: () => T): Promise<T> {
    this.pending++;
    try {
      const o = await this.batches.submit(op);
      if (!o.ok) throw o.error;
      return o.value as T;
    } finally {
      this.pending--;
    }
  }

  /** One transaction for the batch, each op with its own outcome; answered once on disk. */
  private async commit(ops: (() => unknown)[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    // A failing commit (a full disk) throws: none of them is stored, each caller hears why.
    this.transaction(() => {
      for (const op of ops) {
        try {
          outcomes.push({ ok: true, value: op() });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    });
    await this.commits.durable();
    return outcomes;
  }

  /** Whether a write waits for its answer (a store closing waits for settled() first). */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Resolves once every write so far has been answered (before the store closes). */
  async settled(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((r) => setImmediate(r));
    await this.commits.settled();
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
        // No -wal file (it exists while the database is open in WAL mode): a checkpoint
        // flushes the WAL, copies it into the database and flushes that.
        try {
          this.checkpoint();
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
  }
}
