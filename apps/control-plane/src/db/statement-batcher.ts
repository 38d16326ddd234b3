/**
 * Calls of one statement that queue up go to the database together, as one statement over many
 * items (natural batching: nothing waits for a timer). A call made while fewer than `concurrency`
 * batches are under way goes at once, on its own, through `one`; calls made meanwhile wait and go
 * as the next batch through `many`, up to `max` items. So an idle server answers a lone call as
 * before, and a burst — 200 turns starting together — costs a few statements instead of 200 (on
 * embedded PGlite a turn's statement costs ~0.5 ms of its single thread however small it is).
 *
 * Calls of one `key` (the session, the run) go in the order they were made, one at a time: a batch
 * holds at most one of them, and none goes while another of its key is under way (two turns of
 * one session in one statement would see the same snapshot; on two connections, either could
 * win). If `many` fails, each item of the batch runs again through `one`, so each gets its own
 * answer — its own error, if it has one — as it would alone.
 */
export interface StatementBatcherOptions<In, Out> {
  one: (item: In) => Promise<Out>;
  /** answers in the order of `items` */
  many: (items: In[]) => Promise<Out[]>;
  key: (item: In) => string;
  max: number;
  /** batches under way at once: 1 for embedded PGlite (one connection), more for a server */
  concurrency: number;
}

interface Call<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

export class StatementBatcher<In, Out> {
  private queue: Call<In, Out>[] = [];
  private running = 0;
  /** keys of the calls under way */
  private readonly busy = new Set<string>();

  constructor(private readonly o: StatementBatcherOptions<In, Out>) {}

  call(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.o.concurrency && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // all that waits has a call of its key under way
      const keys = batch.map((c) => this.o.key(c.item));
      for (const k of keys) this.busy.add(k);
      this.running++;
      void this.run(batch).finally(() => {
        for (const k of keys) this.busy.delete(k);
        this.running--;
        this.pump();
      });
    }
  }

  /** The oldest waiting calls, one per key and none of a busy key, up to `max`; the others keep their place. */
  private take(): Call<In, Out>[] {
    const batch: Call<In, Out>[] = [];
    const keys = new Set<string>();
    const rest: Call<In, Out>[] = [];
    for (const c of this.queue) {
      const key = this.o.key(c.item);
      if (batch.length < this.o.max && !keys.has(key) && !this.busy.has(key)) batch.push(c);
      else rest.push(c);
      keys.add(key); // a later call of this key must not overtake one left waiting
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Call<In, Out>[]): Promise<void> {
    if (batch.length > 1) {
      let outs: Out[] | null = null;
      try {
        outs = await this.o.many(batch.map((c) => c.item));
      } catch {
        // one item's failure (a unique index, a race with another replica) must not fail the others
      }
      if (outs) return batch.forEach((c, i) => c.resolve(outs[i]!));
    }
    for (const c of batch) await this.o.one(c.item).then(c.resolve, c.reject);
  }
}
