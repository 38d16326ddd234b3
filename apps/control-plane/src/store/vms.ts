import type { VmMode, VmState } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp, timestampOrNull } from './timestamps.js';


export interface VmInstance {
  id: string;
  userId: string;
  orgId: string;
  mode: VmMode;
  status: VmState;
  vmId: string | null;
  connectTicketHash: string | null;
  lastHeartbeatAt: string | null;
  bootstrapAttempts: number;
  bootstrapLastError: string | null;
  lastBootstrapAt: string | null;
  connectedAt: string | null;
  createdAt: string;
}
type Row = Record<string, unknown>;

const toVm = (r: Row): VmInstance => ({
  id: r.id as string,
  userId: r.user_id as string,
  orgId: r.org_id as string,
  mode: r.mode as VmMode,
  status: r.status as VmState,
  vmId: (r.vm_id as string | null) ?? null,
  connectTicketHash: (r.connect_ticket_hash as string | null) ?? null,
  lastHeartbeatAt: timestampOrNull(r.last_heartbeat_at),
  bootstrapAttempts: Number(r.bootstrap_attempts),
  bootstrapLastError: (r.bootstrap_last_error as string | null) ?? null,
  lastBootstrapAt: timestampOrNull(r.last_bootstrap_at),
  connectedAt: timestampOrNull(r.connected_at),
  createdAt: timestamp(r.created_at),
});

/** The user's one live instance row (not terminated/failed), or the newest one of any state. */
export async function currentVm(q: Queryable, userId: string): Promise<VmInstance | null> {
  const [row] = await q.query(
    `SELECT * FROM user_vm_instances WHERE user_id = $1
      ORDER BY (status NOT IN ('terminated', 'failed')) DESC, created_at DESC LIMIT 1`,
    [userId],
  );
  return row ? toVm(row) : null;
}

export async function getVm(q: Queryable, id: string): Promise<VmInstance | null> {
  const [row] = await q.query('SELECT * FROM user_vm_instances WHERE id = $1', [id]);
  return row ? toVm(row) : null;
}

export async function createVm(q: Queryable, input: { userId: string; orgId: string; mode: VmMode }): Promise<VmInstance> {
  const [row] = await q.query(
    `INSERT INTO user_vm_instances (user_id, org_id, mode, status) VALUES ($1, $2, $3, 'starting') RETURNING *`,
    [input.userId, input.orgId, input.mode],
  );
  return toVm(row!);
}

/**
 * Records a bootstrap by `host.owner`: a fresh one-time ticket, one more attempt, status
 * provisioning — unless another replica hosts the plane (its claim has not lapsed): then nothing
 * changes and that replica is returned.
 */
export async function markBootstrap(q: Queryable, id: string, ticketHash: string, host: { owner: string; ms: number }): Promise<VmInstance | { hostedBy: string }> {
  const [row] = await q.query(
    `UPDATE user_vm_instances SET status = 'provisioning', connect_ticket_hash = $2,
            bootstrap_attempts = bootstrap_attempts + 1, last_bootstrap_at = now(),
            host_replica = $3, host_until = now() + $4 * interval '1 millisecond'
      WHERE id = $1 AND (host_replica IS NULL OR host_replica = $3 OR host_until < now()) RETURNING *`,
    [id, ticketHash, host.owner, host.ms],
  );
  if (row) return toVm(row);
  const [holder] = await q.query<{ host_replica: string }>('SELECT host_replica FROM user_vm_instances WHERE id = $1', [id]);
  return { hostedBy: holder?.host_replica ?? 'unknown' };
}

/** A fresh one-time ticket for a plane that starts itself (`local`): the next first connect presents it. */
export async function issueTicket(q: Queryable, id: string, ticketHash: string): Promise<void> {
  await q.query(
    `UPDATE user_vm_instances SET status = CASE WHEN status = 'ready' THEN status ELSE 'provisioning' END, connect_ticket_hash = $2,
            last_bootstrap_at = now(), bootstrap_last_error = NULL WHERE id = $1`,
    [id, ticketHash],
  );
}

/** Gives up every claim of this replica (it is stopping): others may start those planes at once. */
export async function releasePlaneHosts(q: Queryable, owner: string): Promise<void> {
  await q.query(`UPDATE user_vm_instances SET host_until = now() - interval '1 millisecond' WHERE host_replica = $1`, [owner]);
}

/** Renews this replica's claim on the planes of these users; returns the users it still hosts. */
export async function renewPlaneHosts(q: Queryable, userIds: string[], host: { owner: string; ms: number }): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await q.query<{ user_id: string }>(
    `UPDATE user_vm_instances SET host_until = now() + $3 * interval '1 millisecond'
      WHERE user_id = ANY($1::uuid[]) AND host_replica = $2 AND status NOT IN ('terminated', 'failed') RETURNING user_id`,
    [userIds, host.owner, host.ms],
  );
  return new Set(rows.map((r) => r.user_id));
}

export async function updateVm(
  q: Queryable,
  id: string,
  patch: Partial<{ status: VmState; vmId: string | null; bootstrapLastError: string | null; resetAttempts: boolean }>,
): Promise<void> {
  await q.query(
    `UPDATE user_vm_instances SET
        status = COALESCE($2, status),
        vm_id = CASE WHEN $3::boolean THEN $4 ELSE vm_id END,
        bootstrap_last_error = CASE WHEN $5::boolean THEN $6 ELSE bootstrap_last_error END,
        bootstrap_attempts = CASE WHEN $7::boolean THEN 0 ELSE bootstrap_attempts END,
        terminated_at = CASE WHEN $2 = 'terminated' THEN now() ELSE terminated_at END
      WHERE id = $1`,
    [id, patch.status ?? null, 'vmId' in patch, patch.vmId ?? null, 'bootstrapLastError' in patch,
      patch.bootstrapLastError ?? null, patch.resetAttempts ?? false],
  );
}

/** Consumes the one-time ticket: true only for the first connect that presents it. */
export async function consumeTicket(q: Queryable, id: string, ticketHash: string): Promise<boolean> {
  const rows = await q.query(
    `UPDATE user_vm_instances SET connect_ticket_hash = NULL
      WHERE id = $1 AND connect_ticket_hash = $2 RETURNING id`,
    [id, ticketHash],
  );
  return rows.length > 0;
}

export async function markConnected(q: Queryable, id: string): Promise<void> {
  await q.query(
    `UPDATE user_vm_instances SET status = 'ready', connected_at = now(), last_heartbeat_at = now(),
            bootstrap_last_error = NULL, bootstrap_attempts = 0 WHERE id = $1`,
    [id],
  );
}

export async function touchHeartbeat(q: Queryable, id: string): Promise<void> {
  await q.query(`UPDATE user_vm_instances SET last_heartbeat_at = now() WHERE id = $1`, [id]);
}

/** Instances not ended: what a restarted control plane must look at. */
export async function liveVms(q: Queryable): Promise<VmInstance[]> {
  const rows = await q.query(`SELECT * FROM user_vm_instances WHERE status NOT IN ('terminated', 'failed')`);
  return rows.map(toVm);
}
