import type { Agent, AgentCreateBody, AgentPatchBody } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp } from './timestamps.js';
import { liveRowOfOrg } from './live-row.js';

export type { Agent } from '@semibot/protocol';
type Row = Record<string, unknown>;

export const toAgent = (r: Row): Agent => ({
  id: r.id as string,
  orgId: r.org_id as string,
  name: r.name as string,
  systemPrompt: r.system_prompt as string,
  model: (r.model as string | null) ?? null,
  runtimeType: r.runtime_type as Agent['runtimeType'],
  defaultVmMode: (r.default_vm_mode as Agent['defaultVmMode']) ?? null,
  skillIds: r.skill_ids as string[],
  mcpServerIds: r.mcp_server_ids as string[],
  openclawConfig: (r.openclaw_config as Agent['openclawConfig']) ?? null,
  createdAt: timestamp(r.created_at),
  updatedAt: timestamp(r.updated_at),
});

/** Column for each patchable field; the only place API names meet SQL names. */
const columns: Record<keyof AgentPatchBody, { col: string; json?: boolean }> = {
  name: { col: 'name' },
  systemPrompt: { col: 'system_prompt' },
  model: { col: 'model' },
  runtimeType: { col: 'runtime_type' },
  defaultVmMode: { col: 'default_vm_mode' },
  skillIds: { col: 'skill_ids', json: true },
  mcpServerIds: { col: 'mcp_server_ids', json: true },
  openclawConfig: { col: 'openclaw_config', json: true },
};

export async function createAgent(q: Queryable, orgId: string, userId: string, a: AgentCreateBody): Promise<Agent> {
  const [row] = await q.query(
    `INSERT INTO agents (org_id, created_by, name, system_prompt, model, runtime_type, default_vm_mode,
                         skill_ids, mcp_server_ids, openclaw_config)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [orgId, userId, a.name, a.systemPrompt, a.model, a.runtimeType, a.defaultVmMode,
      JSON.stringify(a.skillIds), JSON.stringify(a.mcpServerIds), a.openclawConfig === null ? null : JSON.stringify(a.openclawConfig)],
  );
  return toAgent(row!);
}

export async function listAgents(q: Queryable, orgId: string): Promise<Agent[]> {
  const rows = await q.query('SELECT * FROM agents WHERE org_id = $1 AND deleted_at IS NULL ORDER BY created_at', [orgId]);
  return rows.map(toAgent);
}

export async function getAgent(q: Queryable, orgId: string, id: string): Promise<Agent | null> {
  const row = await liveRowOfOrg(q, 'agents', orgId, id);
  return row ? toAgent(row) : null;
}

export async function patchAgent(q: Queryable, orgId: string, id: string, patch: AgentPatchBody): Promise<Agent | null> {
  const sets: string[] = [];
  const params: unknown[] = [id, orgId];
  for (const [key, value] of Object.entries(patch) as [keyof AgentPatchBody, unknown][]) {
    if (value === undefined) continue;
    const c = columns[key];
    params.push(c.json && value !== null ? JSON.stringify(value) : value);
    sets.push(`${c.col} = $${params.length}`);
  }
  const [row] = await q.query(
    `UPDATE agents SET ${[...sets, 'updated_at = now()'].join(', ')}
      WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL RETURNING *`,
    params,
  );
  return row ? toAgent(row) : null;
}

export async function deleteAgent(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await q.query(
    'UPDATE agents SET deleted_at = now() WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL RETURNING id',
    [id, orgId],
  );
  return rows.length > 0;
}
