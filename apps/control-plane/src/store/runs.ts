import { SemibotError, type ErrorCode, type ExecutionMode, type FinalRunStatus, type RunStatus, type RunUsage, type RuntimeType } from '@semibot/protocol';
import { randomUUID } from 'node:crypto';
import { isUniqueViolation, type Db, type Queryable } from '../db/db.js';
import { StatementBatcher } from '../db/statement-batcher.js';
import { timestamp, timestampOrNull } from './timestamps.js';

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
  /** the replica driving this run (its lease), and until when */
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  /** `direct` when the control plane streamed it from the LLM itself; else through a plane */
  executionMode: ExecutionMode;
  /** why a run meant for a plane went direct (the fallback monitor), if it did */
  fallbackReason: string | null;
}
type Row = Record<string, unknown>;

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
  createdAt: timestamp(r.created_at),
  startedAt: timestampOrNull(r.started_at),
  finishedAt: timestampOrNull(r.finished_at),
  leaseOwner: (r.lease_owner as string | null) ?? null,
  leaseExpiresAt: timestampOrNull(r.lease_expires_at),
  executionMode: (r.execution_mode as ExecutionMode | null) ?? 'runtime',
  fallbackReason: (r.fallback_reason as string | null) ?? null,
});

/** A run about to stream from the LLM directly: recorded (a runtime run writes nothing extra). */
export async function markDirect(q: Queryable, runId: string, fallbackReason: string | null): Promise<void> {
  await q.query(`UPDATE runs SET execution_mode = 'direct', fallback_reason = $2 WHERE id = $1`, [runId, fallbackReason]);
}

/** Who takes a run: the replica that will drive it, and for how long its lease lasts unrenewed. */
export interface Lease {
  owner: string;
  ms: number;
}

export interface SubmitResult {
  run: Run;
  messageId: string;
  duplicate: boolean;
  /** set when the run was claimed as it was stored (the session was idle): what delivering it needs */
  delivery?: Delivery | null;
}

/**
 * Stores the user's message and its run in one statement, if the session is still live (throws
 * NOT_FOUND otherwise: the caller's view of the session may come from a cache). The unique index
 * on (session_id, idempotency_key) makes concurrent duplicates collapse into one run: the loser's
 * insert waits for the winner's commit, finds the conflict, and returns the winner's run.
 *
 * With `claim`, a session with nothing queued or running gets its run stored as `running` at once,
 * with what delivery needs in the same round trip: each statement costs ~0.5 ms or more on
 * embedded PGlite, and store → claim → load were three of them on every turn's way to its first
 * token. Two racing claims are settled by runs_one_running: the loser is stored as queued. The
 * statement lives in the database as semibot_submit_run (migration 013), so its plan is cached;
 * turns submitted together go as one semibot_submit_runs statement (015).
 */
export async function submitMessage(
  db: Db,
  input: { orgId: string; userId: string; sessionId: string; content: string; idempotencyKey: string | null; requestId?: string | null; claim?: Lease | null },
): Promise<SubmitResult> {
  const existing = input.idempotencyKey ? await findByIdempotencyKey(db, input.sessionId, input.idempotencyKey) : null;
  if (existing) return existing;
  try {
    return await insertRun(db, input, input.claim ?? null);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const winner = input.idempotencyKey ? await findByIdempotencyKey(db, input.sessionId, input.idempotencyKey) : null;
    if (winner) return winner;
    if (!input.claim) throw err;
    return insertRun(db, input, null); // another run of the session started meanwhile: queue behind it
  }
}

async function insertRun(
  db: Db,
  input: { orgId: string; userId: string; sessionId: string; content: string; idempotencyKey: string | null; requestId?: string | null },
  claim: Lease | null,
): Promise<SubmitResult> {
  // ids chosen here, so the run and its message go in one statement (atomic on its own: no
  // BEGIN/COMMIT round trips on the hot path of every message)
  const turn: NewTurn = { ...input, requestId: input.requestId ?? null, runId: randomUUID(), messageId: randomUUID(), claim };
  const stored = await turnStatements(db).submit.call(turn);
  // null: the session is deleted (or not the org's); the caller may have checked it from a cache
  if (!stored) throw new SemibotError('NOT_FOUND', 'session not found', 404);
  const run = toRun(stored.run);
  return { run, messageId: turn.messageId, duplicate: false, ...(run.status === 'running' ? { delivery: stored.delivery } : {}) };
}

interface NewTurn {
  runId: string;
  messageId: string;
  orgId: string;
  userId: string;
  sessionId: string;
  content: string;
  idempotencyKey: string | null;
  requestId: string | null;
  claim: Lease | null;
}
type StoredTurn = { run: Row; delivery: Delivery | null } | null;

interface RunEnd {
  runId: string;
  status: FinalRunStatus;
  error: { code: ErrorCode; message: string } | null;
  usage: RunUsage | null;
  answer: string;
  /** the attempt that ends it (fencing); null: whichever attempt is current */
  attempt: number | null;
}
type EndedRun = { run: Row; queuedBehind: boolean } | null;

/**
 * A turn's two statements, batched when they queue up (db/statement-batcher.ts): many turns at
 * once go as one semibot_submit_runs / semibot_finalize_runs statement (migration 015), a lone one
 * through the one-turn function. One batcher pair per database.
 */
const batchers = new WeakMap<Db, { submit: StatementBatcher<NewTurn, StoredTurn>; finalize: StatementBatcher<RunEnd, EndedRun> }>();

function turnStatements(db: Db) {
  let b = batchers.get(db);
  if (!b) {
    // embedded PGlite runs one statement at a time; a server's pool runs several
    const concurrency = db.kind === 'pglite' ? 1 : 4;
    b = {
      submit: new StatementBatcher({ one: (t) => submitOne(db, t), many: (ts) => submitMany(db, ts), key: (t) => t.sessionId, max: 50, concurrency }),
      finalize: new StatementBatcher({ one: (e) => finalizeOne(db, e), many: (es) => finalizeMany(db, es), key: (e) => e.runId, max: 50, concurrency }),
    };
    batchers.set(db, b);
  }
  return b;
}

async function submitOne(q: Queryable, t: NewTurn): Promise<StoredTurn> {
  const [row] = await q.query<{ r: StoredTurn }>('SELECT semibot_submit_run($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS r', [
    t.runId, t.orgId, t.userId, t.sessionId, t.idempotencyKey, t.requestId, t.messageId, t.content,
    t.claim !== null, t.claim?.owner ?? null, t.claim?.ms ?? 0,
  ]);
  return row?.r ?? null;
}

async function submitMany(q: Queryable, ts: NewTurn[]): Promise<StoredTurn[]> {
  const items = ts.map((t) => ({
    run_id: t.runId, org: t.orgId, usr: t.userId, session: t.sessionId, key: t.idempotencyKey, request: t.requestId, message: t.messageId,
    content: t.content, claim: t.claim !== null, owner: t.claim?.owner ?? null, lease_ms: t.claim?.ms ?? 0,
  }));
  const [row] = await q.query<{ r: NonNullable<StoredTurn>[] }>('SELECT semibot_submit_runs($1) AS r', [JSON.stringify(items)]);
  const byRun = new Map((row?.r ?? []).map((s) => [s.run.id as string, s]));
  return ts.map((t) => byRun.get(t.runId) ?? null);
}

async function finalizeOne(q: Queryable, e: RunEnd): Promise<EndedRun> {
  const [row] = await q.query<{ r: EndedRun }>('SELECT semibot_finalize_run($1, $2, $3, $4, $5, $6, $7) AS r', [
    e.runId, e.status, e.error?.code ?? null, e.error?.message ?? null, e.usage ? JSON.stringify(e.usage) : null, e.answer, e.attempt,
  ]);
  return row?.r ?? null;
}

async function finalizeMany(q: Queryable, es: RunEnd[]): Promise<EndedRun[]> {
  const items = es.map((e) => ({
    run_id: e.runId, status: e.status, code: e.error?.code ?? null, message: e.error?.message ?? null, usage: e.usage, answer: e.answer, attempt: e.attempt,
  }));
  const [row] = await q.query<{ r: NonNullable<EndedRun>[] }>('SELECT semibot_finalize_runs($1) AS r', [JSON.stringify(items)]);
  const byRun = new Map((row?.r ?? []).map((x) => [x.run.id as string, x]));
  return es.map((e) => byRun.get(e.runId) ?? null);
}

async function findByIdempotencyKey(q: Queryable, sessionId: string, key: string): Promise<SubmitResult | null> {
  const [row] = await q.query('SELECT * FROM runs WHERE session_id = $1 AND idempotency_key = $2', [sessionId, key]);
  if (!row) return null;
  const run = toRun(row);
  return { run, messageId: run.messageId!, duplicate: true };
}

/**
 * The session's next piece of work, leased to `lease.owner`: its running run when that run's lease
 * has expired (its driver died: taken over as a new attempt, `takeover`), else its oldest queued
 * run when none is running. null when there is nothing to do, or another replica drives the
 * session. runs_one_running settles racing claims across replicas (semibot_claim_session, 008).
 */
export async function claimSession(q: Queryable, sessionId: string, lease: Lease): Promise<{ run: Run; takeover: boolean } | null> {
  const [row] = await q.query<{ r: { run: Row; takeover: boolean } | null }>('SELECT semibot_claim_session($1, $2, $3) AS r', [
    sessionId,
    lease.owner,
    lease.ms,
  ]);
  return row?.r ? { run: toRun(row.r.run), takeover: row.r.takeover } : null;
}

/** Pushes the leases of these runs (all held by `lease.owner`) later; returns the ids still held. */
export async function renewLeases(q: Queryable, ids: string[], lease: Lease): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await q.query<{ id: string }>(
    `UPDATE runs SET lease_expires_at = now() + $3 * interval '1 millisecond'
      WHERE id = ANY($1::uuid[]) AND lease_owner = $2 AND status = 'running' RETURNING id`,
    [ids, lease.owner, lease.ms],
  );
  return new Set(rows.map((r) => r.id));
}

/** Gives these runs' leases up now (a draining replica): the next sweep of any replica takes them over. */
export async function releaseLeases(q: Queryable, ids: string[], owner: string): Promise<void> {
  if (ids.length === 0) return;
  await q.query(
    `UPDATE runs SET lease_expires_at = now() - interval '1 millisecond' WHERE id = ANY($1::uuid[]) AND lease_owner = $2 AND status = 'running'`,
    [ids, owner],
  );
}

/**
 * Sessions whose work nobody drives (mark and sweep): a running run whose lease expired, or a
 * queued run older than `stalledMs` in a session with nothing running (the replica told to start it
 * died before it did).
 */
export async function unattendedSessions(q: Queryable, stalledMs: number): Promise<{ sessionId: string; userId: string; orgId: string }[]> {
  const rows = await q.query<{ session_id: string; user_id: string; org_id: string }>(
    `SELECT session_id, user_id, org_id FROM runs WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())
     UNION
     SELECT q.session_id, q.user_id, q.org_id FROM runs q
      WHERE q.status = 'queued' AND q.created_at < now() - $1 * interval '1 millisecond'
        AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.session_id = q.session_id AND r.status = 'running')
     LIMIT 1000`,
    [stalledMs],
  );
  return rows.map((r) => ({ sessionId: r.session_id, userId: r.user_id, orgId: r.org_id }));
}

/** The oldest queued run's age and how many runs are queued (the queue-lag metric behind the HPA). */
export async function queueLag(q: Queryable): Promise<{ queued: number; oldestSeconds: number }> {
  const [row] = await q.query<{ n: string; oldest: number | null }>(
    `SELECT count(*) AS n, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest FROM runs WHERE status = 'queued'`,
  );
  return { queued: Number(row?.n ?? 0), oldestSeconds: Number(row?.oldest ?? 0) };
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
 * Ends a running run and stores the assistant's answer with it, atomically (one statement: the
 * message is inserted only if the run was still running). Returns null when the run was not
 * running any more (finalised elsewhere), so a late or duplicate `done` changes nothing.
 * `queuedBehind` tells whether the session had a queued run when this one ended. The statement is
 * semibot_finalize_run (migration 008), or semibot_finalize_runs for runs that end together (015).
 */
export async function finalizeRun(db: Db, end: RunEnd): Promise<(Run & { queuedBehind: boolean }) | null> {
  const ended = await turnStatements(db).finalize.call(end);
  return ended ? { ...toRun(ended.run), queuedBehind: ended.queuedBehind } : null;
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

/**
 * A new attempt of a running run (its plane was lost), leased to `lease.owner`; null if the run
 * ended meanwhile or another replica holds its lease.
 */
export async function nextAttempt(q: Queryable, runId: string, lease: Lease): Promise<Run | null> {
  const [row] = await q.query(
    `UPDATE runs SET attempt = attempt + 1, lease_owner = $2, lease_expires_at = now() + $3 * interval '1 millisecond'
      WHERE id = $1 AND status = 'running' AND (lease_owner = $2 OR lease_owner IS NULL OR lease_expires_at < now())
      RETURNING *`,
    [runId, lease.owner, lease.ms],
  );
  return row ? toRun(row) : null;
}

/** What delivering a run needs: the session's agent and the message's text. */
export interface Delivery {
  sessionId: string;
  orgId: string;
  /** the runtime type chain down to the org's setting; null: the deployment's default */
  runtimeType: RuntimeType | null;
  /** the execution mode chain: the user's, else the org's; null: the deployment's default */
  executionMode: ExecutionMode | null;
  executionFrom: 'user' | 'org' | null;
  agent: { id: string; name: string; systemPrompt: string; model: string | null };
  skillIds: string[];
  mcpServerIds: string[];
  content: string;
}

const DELIVERY_COLUMNS = `s.id AS d_session_id, s.org_id AS d_org_id, a.id AS d_agent_id,
  coalesce(s.runtime_type, a.runtime_type, u.default_runtime_type, o.default_runtime_type) AS d_runtime_type,
  coalesce(u.execution_mode, o.default_execution_mode) AS d_execution_mode,
  CASE WHEN u.execution_mode IS NOT NULL THEN 'user' WHEN o.default_execution_mode IS NOT NULL THEN 'org' END AS d_execution_from,
  a.name AS d_name, a.system_prompt AS d_system_prompt, a.model AS d_model,
  a.skill_ids AS d_skill_ids, a.mcp_server_ids AS d_mcp_server_ids`;

/** null when the session or its agent is gone */
function toDelivery(row: Row): Delivery | null {
  if (!row.d_session_id || !row.d_agent_id) return null;
  return {
    sessionId: row.d_session_id as string,
    orgId: row.d_org_id as string,
    runtimeType: (row.d_runtime_type as RuntimeType | null) ?? null,
    executionMode: (row.d_execution_mode as ExecutionMode | null) ?? null,
    executionFrom: (row.d_execution_from as 'user' | 'org' | null) ?? null,
    agent: { id: row.d_agent_id as string, name: row.d_name as string, systemPrompt: row.d_system_prompt as string, model: (row.d_model as string | null) ?? null },
    skillIds: row.d_skill_ids as string[],
    mcpServerIds: row.d_mcp_server_ids as string[],
    content: row.content as string,
  };
}

/** What delivering a run needs, in one query. */
export async function deliveryOf(q: Queryable, run: Run): Promise<Delivery | null> {
  const [row] = await q.query(
    `SELECT ${DELIVERY_COLUMNS}, m.content
       FROM sessions s
       JOIN agents a ON a.id = s.agent_id AND a.deleted_at IS NULL
       JOIN users u ON u.id = s.user_id
       JOIN organizations o ON o.id = s.org_id
       JOIN messages m ON m.id = $2
      WHERE s.id = $1`,
    [run.sessionId, run.messageId],
  );
  return row ? toDelivery(row) : null;
}
