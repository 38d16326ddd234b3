import type { RuntimeType, Session } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp } from './timestamps.js';
import { liveRowOfOrg } from './live-row.js';

export type { Session } from '@semibot/protocol';
type Row = Record<string, unknown>;

const toSession = (r: Row): Session => ({
  id: r.id as string,
  orgId: r.org_id as string,
  userId: r.user_id as string,
  agentId: r.agent_id as string,
  title: (r.title as string | null) ?? null,
  runtimeType: (r.runtime_type as RuntimeType | null) ?? null,
  createdAt: timestamp(r.created_at),
  updatedAt: timestamp(r.updated_at),
});

export async function createSession(
  q: Queryable,
  input: { orgId: string; userId: string; agentId: string; title: string | null; runtimeType: RuntimeType | null },
): Promise<Session> {
  const [row] = await q.query(
    `INSERT INTO sessions (org_id, user_id, agent_id, title, runtime_type) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [input.orgId, input.userId, input.agentId, input.title, input.runtimeType],
  );
  return toSession(row!);
}

export async function listSessions(q: Queryable, orgId: string, agentId?: string): Promise<Session[]> {
  const rows = await q.query(
    `SELECT * FROM sessions WHERE org_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR agent_id = $2)
      ORDER BY created_at DESC`,
    [orgId, agentId ?? null],
  );
  return rows.map(toSession);
}

export async function getSession(q: Queryable, orgId: string, id: string): Promise<Session | null> {
  const row = await liveRowOfOrg(q, 'sessions', orgId, id);
  return row ? toSession(row) : null;
}

/** Looks a session up by id alone: for internal paths that have already checked ownership. */
export async function getSessionById(q: Queryable, id: string): Promise<Session | null> {
  const [row] = await q.query('SELECT * FROM sessions WHERE id = $1', [id]);
  return row ? toSession(row) : null;
}

export async function deleteSession(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await q.query(
    'UPDATE sessions SET deleted_at = now() WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL RETURNING id',
    [id, orgId],
  );
  return rows.length > 0;
}

/** Reserves the next block of event ids; returns the first id of the block [from, from + size). */
export async function reserveEventIds(q: Queryable, sessionId: string, size: number): Promise<number> {
  const [row] = await q.query(
    `UPDATE sessions SET event_seq_reserved = event_seq_reserved + $2 WHERE id = $1 RETURNING event_seq_reserved`,
    [sessionId, size],
  );
  if (!row) throw new Error(`session ${sessionId} not found while reserving event ids`);
  return Number(row.event_seq_reserved) - size + 1;
}
