import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import type { Cluster } from '../cluster/cluster.js';
import { renewLeases, unattendedSessions } from '../store/runs.js';

/** What the lease keeper needs of the run engine and the scheduler. */
export interface LeaseHolder {
  readonly lease: { owner: string; ms: number };
  activeRunIds(): string[];
  lostLease(runId: string): void;
  dispatch(sessionId: string, userId: string, orgId: string): void;
  hostedUsers(): string[];
  /** the shared pool's name and how many of its planes are connected here (none: null) */
  pool(): { name: string; size: number } | null;
  /** renews this replica's claim on the planes it hosts (the database's fence on starting them) */
  renewPlaneHosts(): Promise<void>;
}

/**
 * The dead-man's switch behind run leases, run every third of a lease:
 *  - renews the leases of the runs this replica drives; a run whose lease could not be renewed
 *    (it expired and another replica took it) is dropped here, unfinished;
 *  - renews this replica's claims on the users whose planes it hosts;
 *  - sweeps (distributed only): sessions whose running run's lease expired (its driver died) or
 *    whose queued run nobody started are dispatched again — to the replica hosting their plane.
 * Embedded there is no other replica: recovery at start-up does what the sweep would.
 */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private sweeping = true;
  sweeps = 0;
  dispatched = 0;

  constructor(
    private readonly o: { db: Db; cluster: Cluster; holder: LeaseHolder; logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.o.holder.lease.ms / 3)));
    this.timer.unref();
  }

  /** One round (also run at once after start-up); rounds never overlap. */
  tick(): Promise<void> {
    this.running ??= this.round()
      .catch((err) => this.o.logger.error({ err }, 'lease round failed'))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<void> {
    const { holder, cluster, db } = this.o;
    const ids = holder.activeRunIds();
    const kept = await renewLeases(db, ids, holder.lease);
    for (const id of ids) if (!kept.has(id)) holder.lostLease(id);
    if (!cluster.distributed || !this.sweeping) return;
    await holder.renewPlaneHosts();
    const lostUsers = await cluster.hosts.renew(holder.hostedUsers());
    if (lostUsers.length) this.o.logger.warn({ users: lostUsers.length }, 'another replica claimed users whose planes are here');
    const pool = holder.pool();
    if (pool) await cluster.hosts.announcePool(pool.name, pool.size > 0);
    this.sweeps++;
    // a session whose run is driven here is skipped by kick() itself
    for (const { sessionId, userId, orgId } of await unattendedSessions(db, holder.lease.ms)) {
      this.dispatched++;
      holder.dispatch(sessionId, userId, orgId);
    }
  }

  /** Keeps renewing what this replica drives, but takes nothing over any more (draining). */
  stopSweeping(): void {
    this.sweeping = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
