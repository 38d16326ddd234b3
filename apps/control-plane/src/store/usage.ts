import type { UsageReport, UsageRow } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';

export type UsageInsert = UsageReport & { orgId: string; userId: string; agentId: string | null };

/** Usage records in one statement (what a WriteBehind batch holds). */
export async function insertUsage(q: Queryable, rows: UsageInsert[]): Promise<void> {
  if (rows.length === 0) return;
  const params: unknown[] = [];
  const tuples = rows.map((r) => {
    const b = params.length;
    params.push(r.sessionId, r.runId, r.agentId, r.userId, r.orgId, r.model, r.tokensIn, r.tokensOut, Math.round(r.latencyMs));
    return `(${Array.from({ length: 9 }, (_, i) => `$${b + i + 1}`).join(', ')})`;
  });
  await q.query(
    `INSERT INTO usage_records (session_id, run_id, agent_id, user_id, org_id, model, tokens_in, tokens_out, latency_ms)
     VALUES ${tuples.join(', ')}`,
    params,
  );
}

const GROUP_KEY = {
  day: `to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`,
  model: `coalesce(model, 'unknown')`,
  agent: `coalesce(agent_id::text, 'none')`,
} as const;

/** Token totals of an org in [from, to), grouped by day, model or agent. */
export async function usageSummary(q: Queryable, orgId: string, from: Date, to: Date, groupBy: keyof typeof GROUP_KEY): Promise<UsageRow[]> {
  const rows = await q.query(
    `SELECT ${GROUP_KEY[groupBy]} AS key, sum(tokens_in)::bigint AS tokens_in, sum(tokens_out)::bigint AS tokens_out,
            count(*)::int AS calls, avg(latency_ms)::float8 AS latency_ms_avg
       FROM usage_records WHERE org_id = $1 AND created_at >= $2 AND created_at < $3
      GROUP BY 1 ORDER BY 1`,
    [orgId, from.toISOString(), to.toISOString()],
  );
  return rows.map((r) => ({
    key: r.key as string,
    tokensIn: Number(r.tokens_in),
    tokensOut: Number(r.tokens_out),
    calls: Number(r.calls),
    latencyMsAvg: r.latency_ms_avg === null ? null : Math.round(Number(r.latency_ms_avg)),
  }));
}
