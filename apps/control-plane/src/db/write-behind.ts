import type { Logger } from 'pino';

/**
 * Rows that nobody waits for (e.g. usage records a plane reports after each model call), written a
 * few milliseconds later in one statement per batch instead of one each: every statement costs
 * ~0.5 ms or more of embedded PGlite time, and 200 turns ending together were 200 of them. Readers
 * of such rows call flush() first, so they never miss one that was reported.
 *
 * With `maxDelayMs` the batch window adapts to the database: after each timed flush it becomes ten
 * times what that flush took (between `delayMs` and `maxDelayMs`), so the database spends about a
 * tenth of its time on these rows at most, batches grow with the load, and an idle system still
 * writes within `delayMs` (the event log: PGlite costs 50-130 µs per row whatever it holds).
 *
 * One timed flush at a time: rows added while it runs wait for the next window, which opens when
 * it ends. A timer per window regardless queued flush after flush behind a slow one, each with what
 * arrived in one short window — 200 streaming sessions then cost a row per token again, and the
 * database fell further behind the more it had to write (npm run bench, 200 streams).
 */
export class WriteBehind<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** a timed flush is under way: the next window opens when it ends */
  private timedFlush = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly delayMs: number;
  /** the current batch window (see maxDelayMs) */
  private windowMs: number;

  constructor(
    private readonly write: (rows: T[]) => Promise<void>,
    private readonly o: { what: string; logger: Logger; delayMs?: number; maxDelayMs?: number; maxBatch?: number },
  ) {
    this.delayMs = o.delayMs ?? 20;
    this.windowMs = this.delayMs;
  }

  add(row: T): void {
    this.pending.push(row);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.timedFlush) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timedFlush = true;
      const started = performance.now();
      void this.flush()
        .then(
          () => {
            if (this.o.maxDelayMs === undefined) return;
            this.windowMs = Math.min(this.o.maxDelayMs, Math.max(this.delayMs, 10 * (performance.now() - started)));
          },
          (err) => this.o.logger.error({ err, what: this.o.what }, 'batched write failed; will retry'),
        )
        .finally(() => {
          this.timedFlush = false;
          if (this.pending.length > 0) this.schedule();
        });
    }, this.windowMs);
  }

  /** Resolves when every row added so far is written. */
  flush(): Promise<void> {
    // a failed earlier flush must not poison the chain: its rows went back into `pending`
    this.chain = this.chain.catch(() => {}).then(async () => {
      // what is here now, not what arrives while it is written: that waits for the next window
      for (let left = this.pending.length; left > 0; ) {
        const batch = this.pending.splice(0, Math.min(left, this.o.maxBatch ?? 500));
        left -= batch.length;
        try {
          await this.write(batch);
        } catch (err) {
          this.pending.unshift(...batch);
          this.schedule();
          throw err;
        }
      }
    });
    return this.chain;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}
