import type { McpServerSpec, McpServerView } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp } from './timestamps.js';
import { liveRowOfOrg } from './live-row.js';

/** A stored server with its real env and header values (the API shows them masked, same shape). */
export type McpServer = McpServerView;
type Row = Record<string, unknown>;

const toServer = (r: Row): McpServer => ({
  id: r.id as string,
  orgId: r.org_id as string,
  name: r.name as string,
  transport: r.transport as McpServer['transport'],
  command: (r.command as string | null) ?? null,
  args: r.args as string[],
  env: r.env as Record<string, string>,
  url: (r.url as string | null) ?? null,
  headers: r.headers as Record<string, string>,
  createdAt: timestamp(r.created_at),
  updatedAt: timestamp(r.updated_at),
});

export type McpServerInput = Pick<McpServer, 'name' | 'transport' | 'command' | 'args' | 'env' | 'url' | 'headers'>;

export async function insertMcpServer(q: Queryable, orgId: string, userId: string, s: McpServerInput): Promise<McpServer> {
  const [row] = await q.query(
    `INSERT INTO mcp_servers (org_id, created_by, name, transport, command, args, env, url, headers)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [orgId, userId, s.name, s.transport, s.command, JSON.stringify(s.args), JSON.stringify(s.env), s.url, JSON.stringify(s.headers)],
  );
  return toServer(row!);
}

export async function updateMcpServer(q: Queryable, orgId: string, id: string, s: McpServerInput): Promise<McpServer | null> {
  const [row] = await q.query(
    `UPDATE mcp_servers SET name = $3, transport = $4, command = $5, args = $6, env = $7, url = $8, headers = $9, updated_at = now()
      WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL RETURNING *`,
    [id, orgId, s.name, s.transport, s.command, JSON.stringify(s.args), JSON.stringify(s.env), s.url, JSON.stringify(s.headers)],
  );
  return row ? toServer(row) : null;
}

export async function listMcpServers(q: Queryable, orgId: string): Promise<McpServer[]> {
  return (await q.query('SELECT * FROM mcp_servers WHERE org_id = $1 AND deleted_at IS NULL ORDER BY name', [orgId])).map(toServer);
}

export async function getMcpServer(q: Queryable, orgId: string, id: string): Promise<McpServer | null> {
  const row = await liveRowOfOrg(q, 'mcp_servers', orgId, id);
  return row ? toServer(row) : null;
}

export async function deleteMcpServer(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await q.query('UPDATE mcp_servers SET deleted_at = now() WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL RETURNING id', [id, orgId]);
  return rows.length > 0;
}

/** What a plane may know of an agent's servers: stdio in full, remote ones by id and name only. */
export async function mcpSpecs(q: Queryable, orgId: string, ids: string[]): Promise<McpServerSpec[]> {
  if (ids.length === 0) return [];
  const rows = await q.query(
    `SELECT * FROM mcp_servers WHERE org_id = $1 AND deleted_at IS NULL AND id::text = ANY($2::text[]) ORDER BY name`,
    [orgId, ids],
  );
  return rows.map(toServer).map((s) =>
    s.transport === 'stdio'
      ? { id: s.id, name: s.name, transport: 'stdio' as const, command: s.command ?? '', args: s.args, env: s.env }
      : { id: s.id, name: s.name, transport: 'streamable_http' as const },
  );
}
