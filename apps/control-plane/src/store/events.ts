import type { SequencedEvent } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';

export interface StoredEvent extends SequencedEvent {
  sessionId: string;
}

/**
 * Writes events in one statement: consecutive events of the same session and run become one row
 * (what one flush holds of a streaming run), so the cost is per flush, not per token. A re-flush
 * of rows already written is ignored.
 */
export async function insertEvents(q: Queryable, events: StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows: { sessionId: string; runId: string | null; items: SequencedEvent[] }[] = [];
  const open = new Map<string, (typeof rows)[number]>();
  for (const e of events) {
    const key = e.sessionId;
    let row = open.get(key);
    if (!row || row.runId !== e.event.runId) {
      row = { sessionId: e.sessionId, runId: e.event.runId, items: [] };
      rows.push(row);
      open.set(key, row);
    }
    row.items.push({ id: e.id, event: e.event });
  }
  await q.query(
    `INSERT INTO session_event_batches (session_id, first_seq, last_seq, run_id, n, events)
     SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::uuid[], $5::int[], $6::text[])
     ON CONFLICT DO NOTHING`,
    [
      rows.map((r) => r.sessionId),
      rows.map((r) => r.items[0]!.id),
      rows.map((r) => r.items.at(-1)!.id),
      rows.map((r) => r.runId),
      rows.map((r) => r.items.length),
      rows.map((r) => JSON.stringify(r.items)),
    ],
  );
}

export async function readEvents(
  q: Queryable,
  sessionId: string,
  afterId: number,
  opts: { runId?: string; limit?: number } = {},
): Promise<SequencedEvent[]> {
  const rows = await q.query<{ events: string }>(
    `SELECT events FROM session_event_batches
      WHERE session_id = $1 AND last_seq > $2 AND ($3::uuid IS NULL OR run_id = $3)
      ORDER BY first_seq`,
    [sessionId, afterId, opts.runId ?? null],
  );
  const out: SequencedEvent[] = [];
  const limit = opts.limit ?? 100_000;
  for (const r of rows) {
    for (const e of JSON.parse(r.events) as SequencedEvent[]) {
      if (e.id > afterId) out.push(e);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/**
 * Keeps at least the newest `keep` events of a session: whole batches entirely older than those
 * are deleted, and the mark below which nothing is left is recorded (resuming below it → resync).
 */
export async function pruneEvents(q: Queryable, sessionId: string, keep: number): Promise<void> {
  const [cut] = await q.query<{ last_seq: string }>(
    `SELECT last_seq FROM (
       SELECT last_seq, sum(n) OVER (ORDER BY last_seq DESC) - n AS newer FROM session_event_batches WHERE session_id = $1
     ) t WHERE newer >= $2 ORDER BY last_seq DESC LIMIT 1`,
    [sessionId, keep],
  );
  if (!cut) return;
  const through = Number(cut.last_seq);
  await q.query('DELETE FROM session_event_batches WHERE session_id = $1 AND last_seq <= $2', [sessionId, through]);
  await q.query(
    'UPDATE sessions SET events_pruned_through = GREATEST(events_pruned_through, $2) WHERE id = $1',
    [sessionId, through],
  );
}

export async function prunedThrough(q: Queryable, sessionId: string): Promise<number> {
  const [row] = await q.query('SELECT events_pruned_through FROM sessions WHERE id = $1', [sessionId]);
  return row ? Number(row.events_pruned_through) : 0;
}
