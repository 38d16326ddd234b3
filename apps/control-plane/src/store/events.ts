import type { SequencedEvent, SseEvent } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';

export interface StoredEvent extends SequencedEvent {
  sessionId: string;
}

/** Writes a batch of events in one statement (the relay flushes in batches). */
export async function insertEvents(q: Queryable, events: StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  await q.query(
    `INSERT INTO session_events (session_id, seq, run_id, type, payload)
     SELECT s, n, r, t, p::jsonb FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::text[]) AS x(s, n, r, t, p)
     ON CONFLICT DO NOTHING`,
    [
      events.map((e) => e.sessionId),
      events.map((e) => e.id),
      events.map((e) => e.event.runId),
      events.map((e) => e.event.type),
      events.map((e) => JSON.stringify(e.event)),
    ],
  );
}

export async function readEvents(
  q: Queryable,
  sessionId: string,
  afterId: number,
  opts: { runId?: string; limit?: number } = {},
): Promise<SequencedEvent[]> {
  const rows = await q.query(
    `SELECT seq, payload FROM session_events
      WHERE session_id = $1 AND seq > $2 AND ($3::uuid IS NULL OR run_id = $3)
      ORDER BY seq LIMIT $4`,
    [sessionId, afterId, opts.runId ?? null, opts.limit ?? 100_000],
  );
  return rows.map((r) => ({ id: Number(r.seq), event: r.payload as SseEvent }));
}

/** Keeps the newest `keep` events of a session and records what was dropped. */
export async function pruneEvents(q: Queryable, sessionId: string, keep: number): Promise<void> {
  const [cut] = await q.query(
    `SELECT seq FROM session_events WHERE session_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1`,
    [sessionId, keep],
  );
  if (!cut) return;
  const through = Number(cut.seq);
  await q.query('DELETE FROM session_events WHERE session_id = $1 AND seq <= $2', [sessionId, through]);
  await q.query(
    'UPDATE sessions SET events_pruned_through = GREATEST(events_pruned_through, $2) WHERE id = $1',
    [sessionId, through],
  );
}

export async function prunedThrough(q: Queryable, sessionId: string): Promise<number> {
  const [row] = await q.query('SELECT events_pruned_through FROM sessions WHERE id = $1', [sessionId]);
  return row ? Number(row.events_pruned_through) : 0;
}
