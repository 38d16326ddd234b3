import type { Org, User } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp } from './timestamps.js';

export type { Org, User } from '@semibot/protocol';
type Row = Record<string, unknown>;

const toUser = (r: Row): User => ({
  id: r.id as string,
  orgId: r.org_id as string,
  email: r.email as string,
  name: (r.name as string | null) ?? null,
  role: r.role as string,
  vmMode: (r.vm_mode as User['vmMode']) ?? null,
  runtimeType: (r.default_runtime_type as User['runtimeType']) ?? null,
  executionMode: (r.execution_mode as User['executionMode']) ?? null,
  createdAt: timestamp(r.created_at),
});
const toOrg = (r: Row): Org => ({
  id: r.id as string,
  name: r.name as string,
  dedicatedPlanes: Boolean(r.dedicated_planes),
  defaultVmMode: (r.default_vm_mode as Org['defaultVmMode']) ?? null,
  defaultRuntimeType: (r.default_runtime_type as Org['defaultRuntimeType']) ?? null,
  defaultExecutionMode: (r.default_execution_mode as Org['defaultExecutionMode']) ?? null,
  createdAt: timestamp(r.created_at),
});

/** Each registration makes a new org owned by the new user, atomically. Throws on a taken email. */
export async function createUserWithOrg(
  q: Queryable,
  input: { email: string; passwordHash: string; name: string | null },
): Promise<{ user: User; org: Org }> {
  const [org] = await q.query('INSERT INTO organizations (name) VALUES ($1) RETURNING *', [
    `${input.name ?? input.email.split('@')[0]}'s org`,
  ]);
  const [user] = await q.query(
    `INSERT INTO users (org_id, email, password_hash, name, role) VALUES ($1, $2, $3, $4, 'owner') RETURNING *`,
    [org!.id, input.email, input.passwordHash, input.name],
  );
  return { user: toUser(user!), org: toOrg(org!) };
}

export async function findUserForLogin(q: Queryable, email: string): Promise<{ user: User; passwordHash: string } | null> {
  const [row] = await q.query('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
  return row ? { user: toUser(row), passwordHash: row.password_hash as string } : null;
}

export async function getUserAndOrg(q: Queryable, userId: string, orgId: string): Promise<{ user: User; org: Org } | null> {
  const [row] = await q.query(
    `SELECT u.*, o.name AS org_name, o.created_at AS org_created_at, o.dedicated_planes, o.default_vm_mode AS org_vm_mode,
            o.default_runtime_type AS org_runtime_type, o.default_execution_mode AS org_execution_mode
       FROM users u JOIN organizations o ON o.id = u.org_id WHERE u.id = $1 AND u.org_id = $2`,
    [userId, orgId],
  );
  if (!row) return null;
  return {
    user: toUser(row),
    org: toOrg({ id: row.org_id, name: row.org_name, created_at: row.org_created_at, dedicated_planes: row.dedicated_planes, default_vm_mode: row.org_vm_mode,
      default_runtime_type: row.org_runtime_type, default_execution_mode: row.org_execution_mode }),
  };
}

/** The caller's own links of the settings chains; a field left out stays as it is, null clears it. */
export async function patchUserSettings(
  q: Queryable,
  userId: string,
  orgId: string,
  patch: { vmMode?: User['vmMode'] | undefined; runtimeType?: User['runtimeType'] | undefined; executionMode?: User['executionMode'] | undefined },
): Promise<User | null> {
  const [row] = await q.query(
    `UPDATE users SET vm_mode = CASE WHEN $3::boolean THEN $4 ELSE vm_mode END,
            default_runtime_type = CASE WHEN $5::boolean THEN $6 ELSE default_runtime_type END,
            execution_mode = CASE WHEN $7::boolean THEN $8 ELSE execution_mode END
      WHERE id = $1 AND org_id = $2 RETURNING *`,
    [userId, orgId, patch.vmMode !== undefined, patch.vmMode ?? null, patch.runtimeType !== undefined, patch.runtimeType ?? null,
      patch.executionMode !== undefined, patch.executionMode ?? null],
  );
  return row ? toUser(row) : null;
}

type Mode = User['vmMode'];
/** The VM mode chain's stored links: the user's, the agent's (when a run names one), the org's. */
export async function vmModeSettings(q: Queryable, userId: string, agentId: string | null): Promise<{ user: Mode; agent: Mode; org: Mode }> {
  const [row] = await q.query<{ user_mode: Mode; agent_mode: Mode; org_mode: Mode }>(
    `SELECT u.vm_mode AS user_mode, a.default_vm_mode AS agent_mode, o.default_vm_mode AS org_mode
       FROM users u JOIN organizations o ON o.id = u.org_id
       LEFT JOIN agents a ON a.id = $2 AND a.org_id = u.org_id
      WHERE u.id = $1`,
    [userId, agentId],
  );
  return { user: row?.user_mode ?? null, agent: row?.agent_mode ?? null, org: row?.org_mode ?? null };
}

type Runtime = User['runtimeType'];
/**
 * The runtime type chain's stored links. A session names its agent, so with a session the agent is
 * the session's; sessions and agents of another user or org are not read (their links stay null).
 */
export async function runtimeTypeSettings(
  q: Queryable,
  userId: string,
  agentId: string | null,
  sessionId: string | null,
): Promise<{ session: Runtime; agent: Runtime; user: Runtime; org: Runtime }> {
  const [row] = await q.query<{ session_rt: Runtime; agent_rt: Runtime; user_rt: Runtime; org_rt: Runtime }>(
    `SELECT s.runtime_type AS session_rt, a.runtime_type AS agent_rt, u.default_runtime_type AS user_rt, o.default_runtime_type AS org_rt
       FROM users u JOIN organizations o ON o.id = u.org_id
       LEFT JOIN sessions s ON s.id = $3 AND s.user_id = u.id AND s.deleted_at IS NULL
       LEFT JOIN agents a ON a.id = coalesce(s.agent_id, $2) AND a.org_id = u.org_id AND a.deleted_at IS NULL
      WHERE u.id = $1`,
    [userId, agentId, sessionId],
  );
  return { session: row?.session_rt ?? null, agent: row?.agent_rt ?? null, user: row?.user_rt ?? null, org: row?.org_rt ?? null };
}

export async function patchOrg(
  q: Queryable,
  orgId: string,
  patch: {
    dedicatedPlanes?: boolean | undefined;
    defaultVmMode?: Org['defaultVmMode'] | undefined;
    defaultRuntimeType?: Org['defaultRuntimeType'] | undefined;
    defaultExecutionMode?: Org['defaultExecutionMode'] | undefined;
  },
): Promise<Org | null> {
  const [row] = await q.query(
    `UPDATE organizations SET dedicated_planes = COALESCE($2, dedicated_planes),
            default_vm_mode = CASE WHEN $3::boolean THEN $4 ELSE default_vm_mode END,
            default_runtime_type = CASE WHEN $5::boolean THEN $6 ELSE default_runtime_type END,
            default_execution_mode = CASE WHEN $7::boolean THEN $8 ELSE default_execution_mode END
      WHERE id = $1 RETURNING *`,
    [orgId, patch.dedicatedPlanes ?? null, 'defaultVmMode' in patch, patch.defaultVmMode ?? null, 'defaultRuntimeType' in patch, patch.defaultRuntimeType ?? null,
      'defaultExecutionMode' in patch, patch.defaultExecutionMode ?? null],
  );
  return row ? toOrg(row) : null;
}

/** Whether the org's users get planes of their own (else: the shared pool, when there is one). */
export async function orgWantsDedicatedPlanes(q: Queryable, orgId: string): Promise<boolean> {
  const [row] = await q.query<{ dedicated_planes: boolean }>('SELECT dedicated_planes FROM organizations WHERE id = $1', [orgId]);
  return row?.dedicated_planes ?? true;
}

export async function findApiKey(q: Queryable, keyHash: string): Promise<{ userId: string; orgId: string } | null> {
  const [row] = await q.query(
    `UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING user_id, org_id`,
    [keyHash],
  );
  return row ? { userId: row.user_id as string, orgId: row.org_id as string } : null;
}

export async function insertApiKey(
  q: Queryable,
  input: { orgId: string; userId: string; name: string; keyHash: string; prefix: string },
): Promise<{ id: string; name: string; prefix: string; createdAt: string }> {
  const [row] = await q.query(
    `INSERT INTO api_keys (org_id, user_id, name, key_hash, key_prefix) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [input.orgId, input.userId, input.name, input.keyHash, input.prefix],
  );
  return { id: row!.id as string, name: row!.name as string, prefix: row!.key_prefix as string, createdAt: timestamp(row!.created_at) };
}
