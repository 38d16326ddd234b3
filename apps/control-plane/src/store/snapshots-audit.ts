import type { AuditEntry, SnapshotParams } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp } from './timestamps.js';

const SNAPSHOTS_KEPT = 3;

export type SnapshotInsert = SnapshotParams & { orgId: string; userId: string };

/**
 * Stores snapshots (what a WriteBehind batch holds: a plane sends one after every turn, and 200
 * turns ending together were 200 statements) and drops all but the newest SNAPSHOTS_KEPT of each
 * session they belong to, in one statement.
 */
export async function insertSnapshots(q: Queryable, rows: SnapshotInsert[]): Promise<void> {
  // one statement's rows share created_at (now()): of a session's snapshots in one batch only the
  // newest goes in, or "latest" would be a coin toss between them
  const newest = [...new Map(rows.map((s) => [s.sessionId, s])).values()];
  if (newest.length === 0) return;
  const params: unknown[] = [SNAPSHOTS_KEPT - 1];
  const tuples = newest.map((s) => {
    const b = params.length;
    params.push(s.sessionId, s.userId, s.orgId, JSON.stringify(s.checkpoint), JSON.stringify(s.shortTermMemory),
      JSON.stringify(s.conversationState), JSON.stringify(s.fileManifest));
    return `($${b + 1}::uuid, $${b + 2}::uuid, $${b + 3}::uuid, $${b + 4}::jsonb, $${b + 5}::jsonb, $${b + 6}::jsonb, $${b + 7}::jsonb)`;
  });
  // The DELETE does not see the rows its own statement inserts: it keeps KEPT - 1 of the older ones.
  // It finds the sessions' snapshots by their ids (session_snapshots_latest): joined to the rows
  // just inserted instead, with no statistics (embedded PGlite) it was a hash join over two scans of
  // every snapshot stored, 120,000 rows read for 20 turns ending with 20,000 sessions stored.
  params.push(newest.map((s) => s.sessionId));
  const sessions = `$${params.length}::uuid[]`;
  await q.query(
    `WITH added AS (
       INSERT INTO session_snapshots (session_id, user_id, org_id, checkpoint, short_term_memory, conversation_state, file_manifest)
       VALUES ${tuples.join(', ')}
     )
     DELETE FROM session_snapshots WHERE session_id = ANY (${sessions}) AND id NOT IN (
       SELECT id FROM (
         SELECT id, row_number() OVER (PARTITION BY session_id ORDER BY created_at DESC, id DESC) AS n
           FROM session_snapshots WHERE session_id = ANY (${sessions})
       ) newest WHERE n <= $1)`,
    params,
  );
}

export async function latestSnapshot(q: Queryable, sessionId: string): Promise<SnapshotParams | null> {
  const [r] = await q.query(
    'SELECT * FROM session_snapshots WHERE session_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1',
    [sessionId],
  );
  if (!r) return null;
  return {
    sessionId,
    checkpoint: r.checkpoint ?? null,
    shortTermMemory: (r.short_term_memory as Record<string, string>) ?? {},
    conversationState: r.conversation_state ?? null,
    fileManifest: (r.file_manifest as SnapshotParams['fileManifest']) ?? [],
  };
}


export async function insertAudit(
  q: Queryable,
  a: { orgId: string; userId: string | null; sessionId: string | null; runId: string | null; action: string; target: string | null; details: Record<string, unknown> },
): Promise<void> {
  await q.query(
    `INSERT INTO audit_logs (org_id, user_id, session_id, run_id, action, target, details) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [a.orgId, a.userId, a.sessionId, a.runId, a.action, a.target, JSON.stringify(a.details)],
  );
}

export async function listAudit(q: Queryable, orgId: string, opts: { limit: number; runId?: string | undefined }): Promise<AuditEntry[]> {
  const rows = await q.query(
    `SELECT * FROM audit_logs WHERE org_id = $1 AND ($2::uuid IS NULL OR run_id = $2) ORDER BY created_at DESC LIMIT $3`,
    [orgId, opts.runId ?? null, opts.limit],
  );
  return rows.map((r) => ({
    id: r.id as string,
    userId: (r.user_id as string | null) ?? null,
    sessionId: (r.session_id as string | null) ?? null,
    runId: (r.run_id as string | null) ?? null,
    action: r.action as string,
    target: (r.target as string | null) ?? null,
    details: r.details as Record<string, unknown>,
    createdAt: timestamp(r.created_at),
  }));
}
