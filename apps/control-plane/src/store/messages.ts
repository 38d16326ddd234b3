import type { Message } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp } from './timestamps.js';

export type { Message } from '@semibot/protocol';
type Row = Record<string, unknown>;

const toMessage = (r: Row): Message => ({
  id: r.id as string,
  role: r.role as Message['role'],
  content: r.content as string,
  runId: (r.run_id as string | null) ?? null,
  createdAt: timestamp(r.created_at),
});

/** A session's messages in the order they were stored. */
export async function listMessages(q: Queryable, orgId: string, sessionId: string): Promise<Message[]> {
  const rows = await q.query('SELECT * FROM messages WHERE session_id = $1 AND org_id = $2 ORDER BY position', [
    sessionId,
    orgId,
  ]);
  return rows.map(toMessage);
}

/**
 * A session's conversation (GET /sessions/:id/messages): turns in the order their runs execute
 * (queue order), each user message followed by its answer. Storage order alone would put queued
 * questions before earlier answers: a user message is stored when posted, its answer when its run ends.
 * Messages of no run (a conversation brought along, POST /v1/chat/completions) come first.
 */
export async function listConversation(q: Queryable, orgId: string, sessionId: string): Promise<Message[]> {
  const rows = await q.query(
    `SELECT m.* FROM messages m LEFT JOIN runs r ON r.id = m.run_id
      WHERE m.session_id = $1 AND m.org_id = $2 ORDER BY r.queue_seq NULLS FIRST, m.position`,
    [sessionId, orgId],
  );
  return rows.map(toMessage);
}

export async function insertMessage(
  q: Queryable,
  m: { orgId: string; sessionId: string; runId: string | null; role: Message['role']; content: string },
): Promise<Message> {
  const [row] = await q.query(
    `INSERT INTO messages (org_id, session_id, run_id, role, content) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [m.orgId, m.sessionId, m.runId, m.role, m.content],
  );
  return toMessage(row!);
}


/**
 * Finished turns of a session, in run order, leaving out the given run (the one being executed) and
 * messages still waiting in the queue behind it (a turn must not see questions asked after it).
 */
export async function historyForPlane(q: Queryable, sessionId: string, excludeRunId: string | null): Promise<Message[]> {
  // each message's run by key (LATERAL … LIMIT 1 cannot become a join): as a plain join, with no
  // statistics (embedded PGlite) it was a hash join over a scan of every run stored, at every
  // session's start on a plane
  const rows = await q.query(
    `SELECT m.* FROM messages m
       LEFT JOIN LATERAL (SELECT r.id, r.status, r.queue_seq FROM runs r WHERE r.id = m.run_id LIMIT 1) r ON true
      WHERE m.session_id = $1 AND ($2::uuid IS NULL OR m.run_id IS DISTINCT FROM $2)
        AND (r.id IS NULL OR r.status NOT IN ('queued', 'running'))
      ORDER BY r.queue_seq NULLS FIRST, m.position`,
    [sessionId, excludeRunId],
  );
  return rows.map(toMessage);
}
