import type { ErrorCode, FinalRunStatus, RunStatus, RunUsage } from '@semibot/protocol';
import { randomUUID } from 'node:crypto';
import { isUniqueViolation, type Db, type Queryable } from '../db/db.js';
import { insertMessage } from './messages.js';

export type { RunUsage } from '@semibot/protocol';
export interface Run {
  id: string;
  orgId: string;
  userId: string;
  sessionId: string;
  messageId: string | null;
  /** the HTTP request that created the run, for following it through the logs */
  requestId: string | null;
  status: RunStatus;
  attempt: number;
  error: { code: ErrorCode; message: string } | null;
  usage: RunUsage | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}
type Row = Record<string, unknown>;
const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

export const toRun = (r: Row): Run => ({
  id: r.id as string,
  orgId: r.org_id as string,
  userId: r.user_id as string,
  sessionId: r.session_id as string,
  messageId: (r.message_id as string | null) ?? null,
  requestId: (r.request_id as string | null) ?? null,
  status: r.status as RunStatus,
  attempt: Number(r.attempt),
  error: r.error_code ? { code: r.error_code as ErrorCode, message: (r.error_message as string) ?? '' } : null,
  usage: (r.usage as RunUsage | null) ?? null,
  createdAt: iso(r.created_at)!,
  startedAt: iso(r.started_at),
  finishedAt: iso(r.finished_at),
});

export interface SubmitResult {
  run: Run;
  messageId: string;
  duplicate: boolean;
}

/**
 * Stores the user's message and its queued run in one transaction. The unique index on
 * (session_id, idempotency_key) makes concurrent duplicates collapse into one run: the loser's
 * insert waits for the winner's commit, finds the conflict, and returns the winner's run.
 */
export async function submitMessage(
  db: Db,
  input: { orgId: string; userId: string; sessionId: string; content: string; idempotencyKey: string | null; requestId?: string | null },
): Promise<SubmitResult> {
  const existing = input.idempotencyKey ? await findByIdempotencyKey(db, input.sessionId, input.idempotencyKey) : null;
  if (existing) return existing;
  try {
    // ids chosen here, so the run and its message go in one statement (atomic on its own: no
    // BEGIN/COMMIT round trips on the hot path of every message)
    const runId = randomUUID();
    const messageId = randomUUID();
    const [row] = await db.query(
      `WITH run AS (
         INSERT INTO runs (id, org_id, user_id, session_id, idempotency_key, request_id, message_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *
       ), message AS (
         INSERT INTO messages (id, org_id, session_id, run_id, role, content)
         SELECT $7, org_id, session_id, id, 'user', $8 FROM run
       )
       SELECT * FROM run`,
      [runId, input.orgId, input.userId, input.sessionId, input.idempotencyKey, input.requestId ?? null, messageId, input.content],
    );
    return { run: toRun(row!), messageId, duplicate: false };
  } catch (err) {
    if (!isUniqueViolation(err) || !input.idempotencyKey) throw err;
    const winner = await findByIdempotencyKey(db, input.sessionId, input.idempotencyKey);
    if (!winner) throw err;
    return winner;
  }
}

async function findByIdempotencyKey(q: Queryable, sessionId: string, key: string): Promise<SubmitResult | null> {
  const [row] = await q.query('SELECT * FROM runs WHERE session_id = $1 AND idempotency_key = $2', [sessionId, key]);
  if (!row) return null;
  const run = toRun(row);
  return { run, messageId: run.messageId!, duplicate: true };
}

/**
 * Moves the session's oldest queued run to `running`, unless one is running already. The partial
 * unique index runs_one_running makes this safe across replicas: a racing claim fails instead.
 */
export async function claimNextRun(q: Queryable, sessionId: string): Promise<Run | null> {
  try {
    const [row] = await q.query(
      `UPDATE runs SET status = 'running', started_at = now(), attempt = attempt + 1
        WHERE id = (SELECT id FROM runs WHERE session_id = $1 AND status = 'queued' ORDER BY queue_seq LIMIT 1)
          -- re-checked on the locked row: a racing claim that waited for ours sees 'running' and claims nothing
          AND status = 'queued'
          AND NOT EXISTS (SELECT 1 FROM runs WHERE session_id = $1 AND status = 'running')
        RETURNING *`,
      [sessionId],
    );
    return row ? toRun(row) : null;
  } catch (err) {
    if (isUniqueViolation(err)) return null;
    throw err;
  }
}

export async function getRun(q: Queryable, orgId: string, id: string): Promise<Run | null> {
  const [row] = await q.query('SELECT * FROM runs WHERE id = $1 AND org_id = $2', [id, orgId]);
  return row ? toRun(row) : null;
}

export async function getRunById(q: Queryable, id: string): Promise<Run | null> {
  const [row] = await q.query('SELECT * FROM runs WHERE id = $1', [id]);
  return row ? toRun(row) : null;
}

/**
 * Ends a running run and stores the assistant's answer with it, atomically. Returns null when the
 * run was not running any more (finalised elsewhere), so a late or duplicate `done` changes nothing.
 */
export async function finalizeRun(
  db: Db,
  input: {
    runId: string;
    status: FinalRunStatus;
    error: { code: ErrorCode; message: string } | null;
    usage: RunUsage | null;
    answer: string;
  },
): Promise<Run | null> {
  return db.tx(async (q) => {
    const [row] = await q.query(
      `UPDATE runs SET status = $2, error_code = $3, error_message = $4, usage = $5, finished_at = now()
        WHERE id = $1 AND status IN ('running', 'queued') RETURNING *`,
      [input.runId, input.status, input.error?.code ?? null, input.error?.message ?? null,
        input.usage ? JSON.stringify(input.usage) : null],
    );
    if (!row) return null;
    const run = toRun(row);
    if (input.answer.length > 0) {
      await insertMessage(q, { orgId: run.orgId, sessionId: run.sessionId, runId: run.id, role: 'assistant', content: input.answer });
    }
    return run;
  });
}

/** Sessions that have queued or running work: what start-up recovery must look at. */
export async function listActiveRuns(q: Queryable): Promise<Run[]> {
  const rows = await q.query(`SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY queue_seq`);
  return rows.map(toRun);
}

export async function runningRunOf(q: Queryable, sessionId: string): Promise<Run | null> {
  const [row] = await q.query(`SELECT * FROM runs WHERE session_id = $1 AND status = 'running'`, [sessionId]);
  return row ? toRun(row) : null;
}

/** A new attempt of a running run (its plane was lost); null if the run ended meanwhile. */
export async function nextAttempt(q: Queryable, runId: string): Promise<Run | null> {
  const [row] = await q.query(
    `UPDATE runs SET attempt = attempt + 1 WHERE id = $1 AND status = 'running' RETURNING *`,
    [runId],
  );
  return row ? toRun(row) : null;
}

/** What delivering a run needs, in one query: the session's agent and the message's text. */
export async function deliveryOf(q: Queryable, run: Run) {
  const [row] = await q.query(
    `SELECT s.id AS session_id, s.org_id, s.runtime_type AS session_runtime, a.id AS agent_id, a.name, a.system_prompt,
            a.model, a.runtime_type, a.skill_ids, a.mcp_server_ids, m.content
       FROM sessions s
       JOIN agents a ON a.id = s.agent_id AND a.deleted_at IS NULL
       JOIN messages m ON m.id = $2
      WHERE s.id = $1`,
    [run.sessionId, run.messageId],
  );
  if (!row) return null;
  return {
    sessionId: row.session_id as string,
    orgId: row.org_id as string,
    runtimeType: ((row.session_runtime as string | null) ?? (row.runtime_type as string)) as 'semigraph' | 'openclaw',
    agent: { id: row.agent_id as string, name: row.name as string, systemPrompt: row.system_prompt as string, model: (row.model as string | null) ?? null },
    skillIds: row.skill_ids as string[],
    mcpServerIds: row.mcp_server_ids as string[],
    content: row.content as string,
  };
}
