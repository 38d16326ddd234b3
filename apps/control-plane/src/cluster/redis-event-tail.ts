import type { Redis } from 'ioredis';
import type { EventTail, TailAppend, TailEvent } from './cluster.js';
import type { Script } from './redis-cluster.js';

/** A session's stream expires this long after its last append: the database has it all by then. */
const STREAM_TTL_MS = 10 * 60_000;
/**
 * Entries a stream keeps (approximately, at least). It only has to cover what its writer has not
 * flushed to the database yet (≤ 100 ms of events) and what readers replay from memory.
 */
const STREAM_MAX_LEN = 5_000;
/** a fence outlives any run */
const FENCE_TTL_MS = 24 * 3600_000;

export interface Subscriptions {
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): void;
  onResubscribed(fn: () => void): void;
}

/**
 * The event tail on Redis: one stream per session whose entry ids are the events' own ids (so
 * "after id N" is a range read, and ids can only grow: XADD refuses a smaller one), written and
 * published by one script per batch (lua/append-events.lua) so the fence check, the append and
 * the fan-out are one atomic step. Keys carry the session in a hash tag: a session's stream and
 * its runs' fences live together.
 *
 * Chosen over "Postgres as the authority + pub/sub alone": a reader on another replica must see the
 * events its writer has not flushed yet (the writer batches database writes for ≤ 100 ms — one
 * statement per event would cap the relay near 5k events/s), and pub/sub alone keeps nothing for
 * a reader that subscribes late. Figures: `npm run bench -- --ha`.
 */
export class RedisEventTail implements EventTail {
  constructor(
    private readonly redis: Redis,
    private readonly subs: Subscriptions,
    private readonly scripts: { append: Script; raiseFence: Script },
  ) {}

  private stream(sessionId: string): string {
    return `sb:{${sessionId}}:ev`;
  }

  private fence(sessionId: string, runId: string): string {
    return `sb:{${sessionId}}:fence:${runId}`;
  }

  async append(sessionId: string, runId: string, attempt: number, events: TailEvent[]): Promise<TailAppend> {
    const args: (string | number)[] = [attempt, STREAM_TTL_MS, STREAM_MAX_LEN];
    for (const e of events) args.push(e.id, e.json);
    const [code, value] = (await this.scripts.append([this.stream(sessionId), this.fence(sessionId, runId)], args)) as [number, number];
    if (code === 1) return { ok: true };
    return code === 0 ? { ok: false, reason: 'fenced', fence: value } : { ok: false, reason: 'stale_ids', lastId: value };
  }

  async raiseFence(sessionId: string, runId: string, attempt: number): Promise<void> {
    await this.scripts.raiseFence([this.fence(sessionId, runId)], [attempt, FENCE_TTL_MS]);
  }

  async read(sessionId: string, afterId: number): Promise<TailEvent[]> {
    const entries = await this.redis.xrange(this.stream(sessionId), `(${afterId}-0`, '+');
    return entries.map(([id, fields]) => ({ id: Number(id.slice(0, id.indexOf('-'))), json: fields[1]! }));
  }

  async lastId(sessionId: string): Promise<number> {
    const [top] = await this.redis.xrevrange(this.stream(sessionId), '+', '-', 'COUNT', 1);
    return top ? Number(top[0].slice(0, top[0].indexOf('-'))) : 0;
  }

  watch(sessionId: string, onAppend: (prev: number, events: TailEvent[]) => void): Promise<void> {
    return this.subs.subscribe(this.stream(sessionId), (message) => {
      const lines = message.split('\n');
      const events: TailEvent[] = [];
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!;
        const space = line.indexOf(' ');
        events.push({ id: Number(line.slice(0, space)), json: line.slice(space + 1) });
      }
      onAppend(Number(lines[0]), events);
    });
  }

  unwatch(sessionId: string): void {
    this.subs.unsubscribe(this.stream(sessionId));
  }

  onResubscribed(fn: () => void): void {
    this.subs.onResubscribed(fn);
  }
}
