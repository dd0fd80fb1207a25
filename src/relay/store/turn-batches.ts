/**
 * Requests that arrive in one turn of the event loop, answered by one call (one database round
 * trip instead of one each): on a machine short of CPU, each query's own overhead (the protocol,
 * parsing, planning, a pool turn) is what a busy relay pays for, not the work of the query.
 *
 * A lone request waits for no timer: the batch runs on the next turn (setImmediate, after this
 * turn's I/O, so every request read meanwhile joins it). At most `inFlight` batches run at once;
 * what arrives meanwhile waits for one to end and then goes as one batch (group commit), so a
 * busy relay sends fewer, larger batches rather than more queries.
 */
export class TurnBatches<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private running = 0;

  /** `run` answers its items in their order (one outcome each), or throws for them all. */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly inFlight: number,
    private readonly maxItems = 1000,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.inFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running >= this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxItems);
    this.running++;
    try {
      const out = await this.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(out[i]!));
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      this.running--;
      this.schedule();
    }
  }
}
