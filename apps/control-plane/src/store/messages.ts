import type { Queryable } from '../db/db.js';

export interface Message {
  id: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  runId: string | null;
  createdAt: string;
}
type Row = Record<string, unknown>;

const toMessage = (r: Row): Message => ({
  id: r.id as string,
  role: r.role as Message['role'],
  content: r.content as string,
  runId: (r.run_id as string | null) ?? null,
  createdAt: new Date(r.created_at as string).toISOString(),
});

export async function listMessages(q: Queryable, orgId: string, sessionId: string): Promise<Message[]> {
  const rows = await q.query('SELECT * FROM messages WHERE session_id = $1 AND org_id = $2 ORDER BY position', [
    sessionId,
    orgId,
  ]);
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

export async function getMessageContent(q: Queryable, id: string): Promise<string | null> {
  const [row] = await q.query('SELECT content FROM messages WHERE id = $1', [id]);
  return row ? (row.content as string) : null;
}

/** Completed turns of a session, oldest first, leaving out the given run (the one being executed). */
export async function historyForPlane(q: Queryable, sessionId: string, excludeRunId: string | null): Promise<Message[]> {
  const rows = await q.query(
    `SELECT * FROM messages WHERE session_id = $1 AND ($2::uuid IS NULL OR run_id IS DISTINCT FROM $2)
      ORDER BY position`,
    [sessionId, excludeRunId],
  );
  return rows.map(toMessage);
}
