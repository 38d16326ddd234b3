import type { Memory, MemoryHit } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp } from './timestamps.js';

export type { Memory } from '@semibot/protocol';
type Row = Record<string, unknown>;
const toMemory = (r: Row): Memory => ({
  id: r.id as string,
  agentId: (r.agent_id as string | null) ?? null,
  sessionId: (r.session_id as string | null) ?? null,
  content: r.content as string,
  tags: r.tags as string[],
  createdAt: timestamp(r.created_at),
});

export async function insertMemory(
  q: Queryable,
  m: { orgId: string; userId: string; agentId: string | null; sessionId: string | null; content: string; tags: string[] },
): Promise<Memory> {
  const [row] = await q.query(
    `INSERT INTO memories (org_id, user_id, agent_id, session_id, content, tags) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [m.orgId, m.userId, m.agentId, m.sessionId, m.content, JSON.stringify(m.tags)],
  );
  return toMemory(row!);
}

export async function listMemories(q: Queryable, orgId: string, userId: string, agentId?: string): Promise<Memory[]> {
  const rows = await q.query(
    `SELECT * FROM memories WHERE org_id = $1 AND user_id = $2 AND ($3::uuid IS NULL OR agent_id = $3)
      ORDER BY created_at DESC LIMIT 500`,
    [orgId, userId, agentId ?? null],
  );
  return rows.map(toMemory);
}

/**
 * Full-text search over one user's memories. Any of the query's words may match (ranked by
 * ts_rank), so "what is my favourite colour" finds "favourite colour: teal".
 */
export async function searchMemories(
  q: Queryable,
  s: { orgId: string; userId: string; agentId?: string | undefined; query: string; limit: number },
): Promise<MemoryHit[]> {
  const words = s.query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) return [];
  const rows = await q.query(
    `SELECT id, content, created_at, ts_rank(tsv, query) AS score
       FROM memories, websearch_to_tsquery('english', $4) AS query
      WHERE org_id = $1 AND user_id = $2 AND ($3::uuid IS NULL OR agent_id = $3) AND tsv @@ query
      ORDER BY score DESC, created_at DESC LIMIT $5`,
    [s.orgId, s.userId, s.agentId ?? null, words.join(' or '), s.limit],
  );
  return rows.map((r) => ({ id: r.id as string, content: r.content as string, score: Number(r.score), createdAt: timestamp(r.created_at) }));
}

export async function setEmbedding(q: Queryable, id: string, vector: number[], model: string): Promise<void> {
  await q.query('UPDATE memories SET embedding = $2::real[], embedding_model = $3 WHERE id = $1', [id, vector, model]);
}

/** Nearest memories by cosine similarity (vectors are unit length, so the dot product is the cosine). */
export async function vectorSearch(
  q: Queryable,
  s: { orgId: string; userId: string; agentId?: string | undefined; vector: number[]; model: string; limit: number },
): Promise<MemoryHit[]> {
  const rows = await q.query(
    `SELECT id, content, created_at, score FROM (
       SELECT id, content, created_at,
              (SELECT sum(a * b) FROM unnest(embedding, $4::real[]) AS t(a, b)) AS score
         FROM memories
        WHERE org_id = $1 AND user_id = $2 AND ($3::uuid IS NULL OR agent_id = $3)
          AND embedding_model = $5 AND embedding IS NOT NULL) AS scored
      WHERE score > 0.2 ORDER BY score DESC LIMIT $6`,
    [s.orgId, s.userId, s.agentId ?? null, s.vector, s.model, s.limit],
  );
  return rows.map((r) => ({ id: r.id as string, content: r.content as string, score: Number(r.score), createdAt: timestamp(r.created_at) }));
}
