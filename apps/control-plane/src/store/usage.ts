import type { UsageReport } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';

export async function insertUsage(
  q: Queryable,
  input: UsageReport & { orgId: string; userId: string; agentId: string | null },
): Promise<void> {
  await q.query(
    `INSERT INTO usage_records (session_id, run_id, agent_id, user_id, org_id, model, tokens_in, tokens_out, latency_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [input.sessionId, input.runId, input.agentId, input.userId, input.orgId, input.model, input.tokensIn,
      input.tokensOut, Math.round(input.latencyMs)],
  );
}
