import type { Logger } from 'pino';
import type { SequencedEvent, SseEvent } from '@semibot/protocol';
import type { Db } from '../db/db.js';
import { reserveEventIds } from '../store/sessions.js';
import { WriteBehind } from '../db/write-behind.js';
import { insertEvents, prunedThrough, pruneEvents, readEvents, type StoredEvent } from '../store/events.js';

/**
 * The per-session event log behind every SSE stream.
 *
 * Where the log lives — measured on this project's 2-core dev machine (a one-off loop of 2,000
 * inserts of a text event): one awaited INSERT per event costs 0.17 ms on PGlite and 0.23 ms on a
 * local PostgreSQL; a 200-row INSERT ... SELECT unnest(...) costs 0.005 ms per event on either. A
 * write per event would eat the whole token-latency budget (≤ 0.3 ms p50) and cap one process
 * near 5k events/s, far below the 50k/s target. Memory alone would lose the log on a crash. So:
 *   - ids come from a hi/lo allocator: blocks reserved in `sessions.event_seq_reserved`, so ids are
 *     strictly increasing per session and never reused, even after a crash (gaps are allowed);
 *   - every event goes into a bounded in-memory ring and to live subscribers at once;
 *   - the database is written in batches a few ms later: one statement per flush, and one row per
 *     (session, run) in it (session_event_batches), not one per token — a row per token cost ~24 µs
 *     of PGlite time on the event loop and capped the relay near 24k events/s (npm run bench);
 *     replays read these rows when the ring no longer covers the requested id;
 *   - retention: after each run the session keeps at least its newest N events (whole flushes go);
 *     a resume below the pruned mark gets an explicit `resync`, never a silent gap.
 */
export interface EventLogOptions {
  db: Db;
  logger: Logger;
  /** events kept per session in the database after a run ends */
  retention: number;
  /** events kept per session in memory @default 1024 */
  ringSize?: number;
  /** ids reserved per database round trip @default 1000 */
  blockSize?: number;
  /** batch window for database writes when the database is quick @default 5ms */
  flushDelayMs?: number;
  /** longest batch window, reached when flushes get slow @default 100ms */
  maxFlushDelayMs?: number;
}

export type Listener = (e: StoredEvent) => void;

interface Block {
  next: number;
  end: number; // exclusive
}

interface SessionLog {
  /** settles when the first id block and the pruned mark are known */
  loaded: Promise<void>;
  block: Block | null;
  spare: Block | null;
  reserving: Promise<void> | null;
  /** events appended while no id was available; drained in order when a block arrives */
  waiting: SseEvent[];
  ring: StoredEvent[];
  /** every event with an id above this is in `ring` */
  ringFloor: number;
  prunedThrough: number;
  lastId: number;
  listeners: Set<Listener>;
  lastUsed: number;
  /** events appended since retention was last applied */
  sincePrune: number;
}

export class EventLog {
  private readonly sessions = new Map<string, SessionLog>();
  /** appends waiting for an id; flush() waits for them */
  private readonly draining = new Set<Promise<void>>();
  /** the database side: rows written in batches whose window adapts to the database's speed */
  private readonly writer: WriteBehind<StoredEvent>;
  private readonly ringSize: number;
  private readonly blockSize: number;
  private appended = 0;

  constructor(private readonly opts: EventLogOptions) {
    this.ringSize = opts.ringSize ?? 1024;
    this.blockSize = opts.blockSize ?? 1000;
    const delayMs = opts.flushDelayMs ?? 5;
    this.writer = new WriteBehind((rows: StoredEvent[]) => insertEvents(opts.db, rows), {
      what: 'event log',
      logger: opts.logger,
      delayMs,
      maxDelayMs: Math.max(delayMs, opts.maxFlushDelayMs ?? 100),
      maxBatch: 5000,
    });
  }

  /** Total events appended since start (metrics). */
  get count(): number {
    return this.appended;
  }

  /**
   * Appends an event. Synchronous on the hot path (an id is at hand); otherwise (state still
   * loading, id block spent) the event waits in the session's queue, which keeps arrival order.
   */
  append(sessionId: string, event: SseEvent): void {
    const s = this.sessions.get(sessionId) ?? this.create(sessionId);
    if (s.waiting.length === 0 && s.block && s.block.next < s.block.end) {
      this.deliver(sessionId, s, s.block.next++, event);
      this.maybeReserve(sessionId, s);
      return;
    }
    s.waiting.push(event);
    if (s.waiting.length === 1) this.track(this.drain(sessionId, s));
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err) => this.opts.logger.error({ err }, 'event append failed')).finally(() => this.draining.delete(tracked));
    this.draining.add(tracked);
  }

  private async drain(sessionId: string, s: SessionLog): Promise<void> {
    await s.loaded;
    while (s.waiting.length > 0) {
      if (!s.block || s.block.next >= s.block.end) {
        if (s.spare) {
          s.block = s.spare;
          s.spare = null;
        } else {
          await this.reserve(sessionId, s);
          continue;
        }
      }
      this.deliver(sessionId, s, s.block.next++, s.waiting.shift()!);
    }
    this.maybeReserve(sessionId, s);
  }

  private deliver(sessionId: string, s: SessionLog, id: number, event: SseEvent): void {
    const stored: StoredEvent = { sessionId, id, event };
    s.lastId = id;
    s.lastUsed = Date.now();
    s.sincePrune++;
    s.ring.push(stored);
    if (s.ring.length > this.ringSize) s.ringFloor = s.ring.shift()!.id;
    this.appended++;
    this.writer.add(stored);
    for (const l of s.listeners) l(stored);
  }

  /** Reserve the next block early so the hot path rarely waits for the database. */
  private maybeReserve(sessionId: string, s: SessionLog): void {
    if (s.spare || s.reserving || !s.block) return;
    if (s.block.end - s.block.next > this.blockSize / 2) return;
    void this.reserve(sessionId, s).catch((err) => this.opts.logger.error({ err, sessionId }, 'event id reservation failed'));
  }

  private reserve(sessionId: string, s: SessionLog): Promise<void> {
    s.reserving ??= reserveEventIds(this.opts.db, sessionId, this.blockSize)
      .then((from) => {
        const block = { next: from, end: from + this.blockSize };
        if (!s.block || s.block.next >= s.block.end) s.block = block;
        else s.spare = block;
      })
      .finally(() => {
        s.reserving = null;
      });
    return s.reserving;
  }

  /** Registers a session's state at once (so order is kept) and loads its id block behind it. */
  private create(sessionId: string): SessionLog {
    const s: SessionLog = {
      loaded: Promise.resolve(),
      block: null,
      spare: null,
      reserving: null,
      waiting: [],
      ring: [],
      ringFloor: 0,
      prunedThrough: 0,
      lastId: 0,
      listeners: new Set(),
      lastUsed: Date.now(),
      sincePrune: 0,
    };
    s.loaded = (async () => {
      const [from, pruned] = await Promise.all([
        reserveEventIds(this.opts.db, sessionId, this.blockSize),
        prunedThrough(this.opts.db, sessionId),
      ]);
      s.block = { next: from, end: from + this.blockSize };
      // every id handed out before this block is below `from`, and is (or will be) in the database
      s.ringFloor = from - 1;
      s.lastId = from - 1;
      s.prunedThrough = pruned;
    })();
    s.loaded.catch(() => {
      // a failed load must not poison the session forever: the next caller starts over
      if (this.sessions.get(sessionId) === s) this.sessions.delete(sessionId);
    });
    this.sessions.set(sessionId, s);
    return s;
  }

  private async state(sessionId: string): Promise<SessionLog> {
    const s = this.sessions.get(sessionId) ?? this.create(sessionId);
    await s.loaded;
    return s;
  }

  /**
   * Streams a session's events after `afterId` to `listener`, then live ones, with no gap and no
   * duplicate across the hand-over. Returns `resync: true` (and streams only live events) when
   * events after `afterId` were pruned. `runId` narrows the stream to one run.
   */
  async subscribe(
    sessionId: string,
    afterId: number,
    listener: Listener,
    opts: { runId?: string } = {},
  ): Promise<{ unsubscribe: () => void; resync: boolean; oldestRetainedId: number | null }> {
    const s = await this.state(sessionId);
    const wanted = (e: StoredEvent) => !opts.runId || e.event.runId === opts.runId;
    let buffer: StoredEvent[] | null = [];
    let lastSent = afterId;
    const send = (e: StoredEvent) => {
      if (e.id > lastSent && wanted(e)) {
        lastSent = e.id;
        listener(e);
      }
    };
    const live: Listener = (e) => (buffer ? buffer.push(e) : send(e));
    s.listeners.add(live);
    const unsubscribe = () => s.listeners.delete(live);

    const resync = afterId > 0 && afterId < s.prunedThrough;
    try {
      if (!resync) for (const e of await this.readAfter(sessionId, s, afterId, opts.runId)) send(e);
    } catch (err) {
      unsubscribe();
      throw err;
    }
    const held = buffer;
    buffer = null;
    for (const e of held) send(e);
    return { unsubscribe, resync, oldestRetainedId: resync ? s.prunedThrough + 1 : null };
  }

  private async readAfter(sessionId: string, s: SessionLog, afterId: number, runId?: string): Promise<StoredEvent[]> {
    if (afterId >= s.ringFloor) return s.ring.filter((e) => e.id > afterId);
    await this.flush();
    const fromDb = await readEvents(this.opts.db, sessionId, afterId, runId ? { runId } : {});
    const last = fromDb.at(-1)?.id ?? afterId;
    return [...fromDb.map((e) => ({ ...e, sessionId })), ...s.ring.filter((e) => e.id > last)];
  }

  /** Highest id handed out in this session so far (0 when none since load). */
  async lastId(sessionId: string): Promise<number> {
    return (await this.state(sessionId)).lastId;
  }

  /** Writes everything appended so far to the database; resolves when it is there. */
  async flush(): Promise<void> {
    await Promise.all(this.draining); // appends still waiting for an id come first
    await this.writer.flush();
  }

  /**
   * Applies retention to one session (after a run ends) — only once a quarter of the retention
   * has been appended since the last prune, so a short turn costs no pruning queries.
   */
  async prune(sessionId: string): Promise<void> {
    const st = this.sessions.get(sessionId);
    if (st && st.sincePrune < Math.max(1, this.opts.retention / 4)) return;
    if (st) st.sincePrune = 0;
    await this.flush();
    await pruneEvents(this.opts.db, sessionId, this.opts.retention, (through) => {
      const s = this.sessions.get(sessionId);
      if (s) s.prunedThrough = Math.max(s.prunedThrough, through);
    });
  }

  /** Drops in-memory state of sessions nobody watches and nobody wrote to for `idleMs`. */
  evictIdle(idleMs: number): number {
    const cutoff = Date.now() - idleMs;
    let evicted = 0;
    for (const [id, s] of this.sessions) {
      if (s.listeners.size === 0 && s.waiting.length === 0 && s.lastUsed < cutoff) {
        this.sessions.delete(id);
        evicted++;
      }
    }
    return evicted;
  }

  async close(): Promise<void> {
    await Promise.all(this.draining);
    await this.writer.close();
  }
}
