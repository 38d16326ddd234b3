import type { Queryable } from '../db/db.js';

type OrgTable = 'sessions' | 'agents' | 'skills' | 'mcp_servers';

/**
 * An org's live (not deleted) row by id: looked up by primary key alone, its org and deletion
 * checked here. With `org_id = $2 AND deleted_at IS NULL` in the query, a database without
 * statistics (embedded PGlite never gets any: it has no autovacuum) walked the org's partial index
 * (sessions_org_user, agents_org, …) and filtered that by id — 20,000 rows read to find one session
 * of an org holding 20,000.
 */
export async function liveRowOfOrg(q: Queryable, table: OrgTable, orgId: string, id: string): Promise<Record<string, unknown> | null> {
  const [row] = await q.query<Record<string, unknown>>(`SELECT * FROM ${table} WHERE id = $1`, [id]);
  return row && String(row.org_id) === orgId.toLowerCase() && row.deleted_at == null ? row : null;
}
