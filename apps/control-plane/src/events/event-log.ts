import type { Logger } from 'pino';
import type { SequencedEvent, SseEvent } from '@semibot/protocol';
import type { Db } from '../db/db.js';
import { reserveEventIds } from '../store/sessions.js';
import { WriteBehind } from '../db/write-behind.js';
import { eventJson, insertEvents, lastStoredId, prunedThrough, pruneEvents, readEvents, type StoredEvent } from '../store/events.js';
import type { EventTail, TailEvent } from '../cluster/cluster.js';

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
 *   - the database is written in batches some tens of ms later: one statement per flush, and one row per
 *     (session, run) in it (session_event_batches), not one per token — a row per token cost ~24 µs
 *     of PGlite time on the event loop and capped the relay near 24k events/s (npm run bench);
 *     replays read these rows when the ring no longer covers the requested id;
 *   - retention: after each run the session keeps at least its newest N events (whole flushes go);
 *     a resume below the pruned mark gets an explicit `resync`, never a silent gap.
 *
 * Across replicas (a `tail`, REDIS_URL): the replica driving a run appends its events to the shared
 * tail before anything sees them — one fenced round trip per session at a time, so what arrives
 * meanwhile goes as the next batch — and writes them to the database as above. Every replica with a
 * stream of the session open watches the tail: its ring fills from there, and a replay reads the
 * database, then the tail for what the writer has not flushed yet. A batch names the id before it,
 * so a replica that missed one (Redis reconnect) notices and reads the gap back from the tail.
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
  /**
   * batch window for database writes when the database is quick @default 50ms. Events are not
   * what the durability invariant covers (messages and runs are, written before the client has a
   * runId); a plane re-sends a run's recent events to a control plane that lost them. At 5 ms a
   * single stream of 200 tokens/s cost a statement per token or two — a fifth of a core of
   * embedded PGlite, competing with the relay for the same two cores (npm run bench, CPU µs/token).
   */
  flushDelayMs?: number;
  /** longest batch window, reached when flushes get slow @default 100ms */
  maxFlushDelayMs?: number;
  /** the tail shared with other replicas; absent: this process is the only writer and reader */
  tail?: EventTail | null;
  /** told when the tail refused a run's events: a newer attempt took the run over elsewhere */
  onFenced?: (runId: string, fence: number) => void;
}

export type Listener = (e: StoredEvent) => void;

interface Pending {
  event: SseEvent;
  /** the run attempt that appends it: the tail's fencing token */
  attempt: number;
  id?: number;
}

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
  waiting: Pending[];
  /** numbered, on their way to the shared tail (the next batch) */
  outgoing: Pending[];
  /** an append to the shared tail is under way */
  sending: boolean;
  /** tail batches that arrived while the state loads or a gap is read back: applied after */
  held: { prev: number; events: TailEvent[] }[] | null;
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
    const delayMs = opts.flushDelayMs ?? 50;
    this.writer = new WriteBehind(async (rows: StoredEvent[]) => {
      await insertEvents(opts.db, rows);
      // stored: the ring keeps the event, not its JSON (made again if a replay from the ring needs
      // it); kept, it would outlive the young generation and be copied into the old one per token
      for (const e of rows) e.json = undefined;
    }, {
      what: 'event log',
      logger: opts.logger,
      delayMs,
      maxDelayMs: Math.max(delayMs, opts.maxFlushDelayMs ?? 1000),
      maxBatch: 5000,
    });
    // messages published while the subscription was down are lost: every watched session reads its gap back
    opts.tail?.onResubscribed(() => {
      for (const [id, s] of this.sessions) this.track(this.catchUp(id, s));
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
  append(sessionId: string, event: SseEvent, attempt = 0): void {
    const s = this.sessions.get(sessionId) ?? this.create(sessionId);
    if (s.waiting.length === 0 && this.usableBlock(s)) {
      this.number(sessionId, s, s.block!.next++, { event, attempt });
      this.maybeReserve(sessionId, s);
      return;
    }
    s.waiting.push({ event, attempt });
    if (s.waiting.length === 1) this.track(this.drain(sessionId, s));
  }

  /**
   * Whether the session's id block can number the next event. Another replica may have appended to
   * the session since this block was reserved: ids at or below the last one seen are spent.
   */
  private usableBlock(s: SessionLog): boolean {
    if (s.block && s.block.next <= s.lastId) s.block = s.spare && s.spare.next > s.lastId ? s.spare : null;
    if (s.block === s.spare) s.spare = null;
    return s.block !== null && s.block.next < s.block.end;
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err) => this.opts.logger.error({ err }, 'event append failed')).finally(() => this.draining.delete(tracked));
    this.draining.add(tracked);
  }

  private async drain(sessionId: string, s: SessionLog): Promise<void> {
    await s.loaded;
    while (s.waiting.length > 0) {
      if (!this.usableBlock(s)) {
        if (s.spare && s.spare.next > s.lastId) {
          s.block = s.spare;
          s.spare = null;
        } else {
          s.spare = null;
          await this.reserve(sessionId, s);
          continue;
        }
      }
      this.number(sessionId, s, s.block!.next++, s.waiting.shift()!);
    }
    this.maybeReserve(sessionId, s);
  }

  /** An event got its id: delivered now (one process), or once the shared tail has taken it. */
  private number(sessionId: string, s: SessionLog, id: number, p: Pending): void {
    if (!this.opts.tail) return this.deliver(sessionId, s, { sessionId, id, event: p.event }, true);
    p.id = id;
    s.outgoing.push(p);
    if (!s.sending) this.track(this.sendToTail(sessionId, s));
  }

  /** Puts an event in the ring and before every listener; `own`: this replica appended it (and stores it). */
  private deliver(sessionId: string, s: SessionLog, stored: StoredEvent, own: boolean): void {
    s.lastUsed = Date.now();
    if (own) {
      this.appended++;
      s.sincePrune++;
      this.writer.add(stored);
    }
    // the tail's fan-out can bring this replica's own batch back before the append's reply
    if (stored.id <= s.lastId) return;
    s.lastId = stored.id;
    s.ring.push(stored);
    if (s.ring.length > this.ringSize) s.ringFloor = s.ring.shift()!.id;
    for (const l of s.listeners) l(stored);
  }

  /**
   * Appends the session's numbered events to the shared tail, a batch per round trip: a batch is
   * what arrived while the previous one was under way, cut where the run or attempt changes.
   */
  private async sendToTail(sessionId: string, s: SessionLog): Promise<void> {
    const tail = this.opts.tail!;
    s.sending = true;
    try {
      while (s.outgoing.length > 0) {
        const first = s.outgoing[0]!;
        let n = 1;
        while (n < s.outgoing.length && n < 1000 && s.outgoing[n]!.attempt === first.attempt && s.outgoing[n]!.event.runId === first.event.runId) n++;
        const batch = s.outgoing.slice(0, n);
        const stored = batch.map((p): StoredEvent => ({ sessionId, id: p.id!, event: p.event }));
        const result = await tail.append(sessionId, first.event.runId ?? 'none', first.attempt, stored.map((e) => ({ id: e.id, json: eventJson(e) })));
        if (result.ok) {
          s.outgoing.splice(0, n);
          for (const e of stored) this.deliver(sessionId, s, e, true);
        } else if (result.reason === 'fenced') {
          s.outgoing.splice(0, n);
          this.opts.logger.warn({ sessionId, runId: first.event.runId, attempt: first.attempt, fence: result.fence }, 'events of a superseded attempt refused');
          if (first.event.runId) this.opts.onFenced?.(first.event.runId, result.fence);
        } else {
          // another replica numbered past this block: everything not yet in the tail is numbered again
          s.lastId = Math.max(s.lastId, result.lastId);
          const again = s.outgoing.splice(0);
          s.block = s.spare = null;
          const restart = s.waiting.length === 0;
          s.waiting.unshift(...again.map(({ event, attempt }) => ({ event, attempt })));
          if (restart) this.track(this.drain(sessionId, s));
        }
      }
    } finally {
      s.sending = false;
    }
  }

  /** A batch another replica (or this one) appended to the shared tail. */
  private onTailBatch(sessionId: string, prev: number, events: TailEvent[]): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    if (s.held) return void s.held.push({ prev, events });
    if (events.at(-1)!.id <= s.lastId) return;
    if (prev > s.lastId) return void this.track(this.catchUp(sessionId, s));
    for (const e of events) if (e.id > s.lastId) this.deliver(sessionId, s, fromTail(sessionId, e), false);
  }

  /** Reads back from the tail what this replica missed, then applies the batches held meanwhile. */
  private async catchUp(sessionId: string, s: SessionLog): Promise<void> {
    if (s.held) return; // a catch-up is under way; it applies what arrives meanwhile
    s.held = [];
    try {
      for (const e of await this.opts.tail!.read(sessionId, s.lastId)) this.deliver(sessionId, s, fromTail(sessionId, e), false);
    } finally {
      const held = s.held;
      s.held = null;
      for (const b of held) this.onTailBatch(sessionId, b.prev, b.events);
    }
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

  /** Registers a session's state at once (so order is kept) and loads it behind it. */
  private create(sessionId: string): SessionLog {
    const s: SessionLog = {
      loaded: Promise.resolve(),
      block: null,
      spare: null,
      reserving: null,
      waiting: [],
      outgoing: [],
      sending: false,
      held: null,
      ring: [],
      ringFloor: 0,
      prunedThrough: 0,
      lastId: 0,
      listeners: new Set(),
      lastUsed: Date.now(),
      sincePrune: 0,
    };
    s.loaded = this.opts.tail ? this.loadShared(sessionId, s, this.opts.tail) : (async () => {
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
      if (this.sessions.get(sessionId) === s) this.forget(sessionId);
    });
    this.sessions.set(sessionId, s);
    return s;
  }

  /**
   * With a shared tail: watch it first, then learn the newest id anywhere (the tail's, or the
   * database's when the tail expired) — a batch appended in between is held, applied after. Ids
   * are reserved only when this replica appends.
   */
  private async loadShared(sessionId: string, s: SessionLog, tail: EventTail): Promise<void> {
    s.held = [];
    await tail.watch(sessionId, (prev, events) => this.onTailBatch(sessionId, prev, events));
    const [inTail, stored, pruned] = await Promise.all([tail.lastId(sessionId), lastStoredId(this.opts.db, sessionId), prunedThrough(this.opts.db, sessionId)]);
    s.lastId = s.ringFloor = Math.max(inTail, stored);
    s.prunedThrough = pruned;
    const held = s.held;
    s.held = null;
    for (const b of held) this.onTailBatch(sessionId, b.prev, b.events);
  }

  private forget(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.opts.tail?.unwatch(sessionId);
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

    // another replica may have pruned since this state loaded: a replay from the database asks again
    if (this.opts.tail && afterId < s.ringFloor) s.prunedThrough = Math.max(s.prunedThrough, await prunedThrough(this.opts.db, sessionId));
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
    const fromDb = (await readEvents(this.opts.db, sessionId, afterId, runId ? { runId } : {})).map((e): StoredEvent => ({ ...e, sessionId }));
    let last = fromDb.at(-1)?.id ?? afterId;
    if (this.opts.tail) {
      // what other replicas appended and have not flushed yet (the tail may hold flushed ones too)
      for (const t of await this.opts.tail.read(sessionId, last)) {
        const e = fromTail(sessionId, t);
        if (!runId || e.event.runId === runId) fromDb.push(e);
        last = t.id;
      }
    }
    return [...fromDb, ...s.ring.filter((e) => e.id > last)];
  }

  /** The run's events so far, wherever they are (database, shared tail, memory): what a takeover rebuilds from. */
  async runEvents(sessionId: string, runId: string): Promise<StoredEvent[]> {
    const s = await this.state(sessionId);
    return (await this.readAfter(sessionId, s, 0, runId)).filter((e) => e.event.runId === runId);
  }

  /** Highest id handed out in this session so far (0 when none since load). */
  async lastId(sessionId: string): Promise<number> {
    return (await this.state(sessionId)).lastId;
  }

  /** Writes everything appended so far to the database; resolves when it is there. */
  async flush(): Promise<void> {
    await Promise.all(this.draining); // appends still waiting for an id (or for the tail) come first
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
      if (s.listeners.size === 0 && s.waiting.length === 0 && !s.sending && s.lastUsed < cutoff) {
        this.forget(id);
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

function fromTail(sessionId: string, t: TailEvent): StoredEvent {
  return { sessionId, id: t.id, event: JSON.parse(t.json) as SseEvent, json: t.json };
}
