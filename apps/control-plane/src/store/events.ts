import type { SequencedEvent } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';

export interface StoredEvent extends SequencedEvent {
  sessionId: string;
  /** `event` as JSON, serialised once: the SSE frame and the stored batch reuse it (eventJson) */
  json?: string;
}

export function eventJson(e: StoredEvent): string {
  return (e.json ??= JSON.stringify(e.event));
}

/**
 * Rows per INSERT (6 parameters each). Embedded PGlite spends 50-160 µs per row and runs one
 * statement at a time, first come first served: a message's submit that arrived during a
 * 1,000-row statement waited up to 100 ms for it; behind a 100-row one, a few ms.
 */
const ROWS_PER_STATEMENT = 100;

/**
 * Writes events in one statement: consecutive events of the same session and run become one row
 * (what one flush holds of a streaming run), so the cost is per flush, not per token. A re-flush
 * of rows already written is ignored.
 */
export async function insertEvents(q: Queryable, events: StoredEvent[]): Promise<void> {
  const rows: { sessionId: string; runId: string | null; first: number; last: number; items: string[] }[] = [];
  const open = new Map<string, (typeof rows)[number]>();
  for (const e of events) {
    let row = open.get(e.sessionId);
    if (!row || row.runId !== e.event.runId) {
      row = { sessionId: e.sessionId, runId: e.event.runId, first: e.id, last: e.id, items: [] };
      rows.push(row);
      open.set(e.sessionId, row);
    }
    row.last = e.id;
    // the same text as JSON.stringify({id, event}), built from the event's one serialisation,
    // less the run id the row already holds (a third of a text event's bytes; readEvents puts it back)
    row.items.push(`{"id":${e.id},"event":${withoutRunId(eventJson(e), e.event.runId)}}`);
  }
  // Multi-row VALUES with plain parameters: measured cheaper on PGlite than unnest() over array
  // parameters, whose literals (every quote of the JSON escaped) Postgres must parse again.
  for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(from, from + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    const tuples = chunk.map((r) => {
      const b = params.length;
      params.push(r.sessionId, r.first, r.last, r.runId, r.items.length, `[${r.items.join(',')}]`);
      return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6})`;
    });
    await q.query(
      `INSERT INTO session_event_batches (session_id, first_seq, last_seq, run_id, n, events)
       VALUES ${tuples.join(',')} ON CONFLICT DO NOTHING`,
      params,
    );
  }
}

/** An event's JSON without its `runId` member when that is the last one (as the relay builds them). */
function withoutRunId(json: string, runId: string | null): string {
  if (!runId) return json;
  const tail = `,"runId":"${runId}"}`;
  return json.endsWith(tail) ? `${json.slice(0, -tail.length)}}` : json;
}

export async function readEvents(
  q: Queryable,
  sessionId: string,
  afterId: number,
  opts: { runId?: string; limit?: number } = {},
): Promise<SequencedEvent[]> {
  const rows = await q.query<{ events: string; run_id: string | null }>(
    `SELECT events, run_id FROM session_event_batches
      WHERE session_id = $1 AND last_seq > $2 AND ($3::uuid IS NULL OR run_id = $3)
      ORDER BY first_seq`,
    [sessionId, afterId, opts.runId ?? null],
  );
  const out: SequencedEvent[] = [];
  const limit = opts.limit ?? 100_000;
  let last = afterId;
  for (const r of rows) {
    for (const e of JSON.parse(r.events) as SequencedEvent[]) {
      if (e.event.runId === undefined) (e.event as { runId: string | null }).runId = r.run_id;
      // rows of two writers may overlap (a replica that lost a run flushed late): each id once, in order
      if (e.id <= last) continue;
      last = e.id;
      out.push(e);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/**
 * Keeps exactly the newest `keep` events of a session: older batches are deleted, and the one batch
 * that straddles the cut is rewritten without its older events (batches grow with the load, so
 * dropping only whole ones could keep a long run entirely). `mark(through)` is called before
 * anything is deleted, so a reader never sees a gap without knowing of the cut; resuming at or
 * below `through` then gets `resync`. Returns the new mark, or null when nothing had to go.
 */
export async function pruneEvents(q: Queryable, sessionId: string, keep: number, mark: (through: number) => void = () => {}): Promise<number | null> {
  const [row] = await q.query<{ first_seq: string; last_seq: string; n: number; newer: string; events: string | null }>(
    `SELECT first_seq, last_seq, n, newer, CASE WHEN newer < $2 THEN events END AS events FROM (
       SELECT first_seq, last_seq, n, events, sum(n) OVER (ORDER BY last_seq DESC) - n AS newer
         FROM session_event_batches WHERE session_id = $1
     ) t WHERE newer + n > $2 ORDER BY last_seq DESC LIMIT 1`,
    [sessionId, keep],
  );
  if (!row) return null; // fewer than `keep` events stored
  let through = Number(row.last_seq);
  let trimmed: SequencedEvent[] | null = null;
  if (row.events !== null) {
    // this batch straddles the cut: it keeps its newest (keep - newer) events
    const items = JSON.parse(row.events) as SequencedEvent[];
    const drop = items.length - (keep - Number(row.newer));
    through = items[drop - 1]!.id;
    trimmed = items.slice(drop);
  }
  await q.query('UPDATE sessions SET events_pruned_through = GREATEST(events_pruned_through, $2) WHERE id = $1', [sessionId, through]);
  mark(through);
  if (trimmed) {
    await q.query(
      'UPDATE session_event_batches SET first_seq = $3, n = $4, events = $5 WHERE session_id = $1 AND first_seq = $2',
      [sessionId, row.first_seq, trimmed[0]!.id, trimmed.length, JSON.stringify(trimmed)],
    );
  }
  await q.query('DELETE FROM session_event_batches WHERE session_id = $1 AND last_seq <= $2', [sessionId, through]);
  return through;
}

/** The highest event id stored for a session (0: none). */
export async function lastStoredId(q: Queryable, sessionId: string): Promise<number> {
  const [row] = await q.query<{ last: string | null }>('SELECT max(last_seq) AS last FROM session_event_batches WHERE session_id = $1', [sessionId]);
  return Number(row?.last ?? 0);
}

export async function prunedThrough(q: Queryable, sessionId: string): Promise<number> {
  const [row] = await q.query('SELECT events_pruned_through FROM sessions WHERE id = $1', [sessionId]);
  return row ? Number(row.events_pruned_through) : 0;
}
