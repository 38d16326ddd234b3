import type { Logger } from 'pino';
import type { Cluster } from '../cluster/cluster.js';
import type { Scheduler } from '../scheduler/scheduler.js';

/** of(): this replica drives the run */
export const HERE = '';
/** of() while draining: nobody now — another replica's sweep starts the run shortly */
const LATER = '-';

/**
 * Which replica drives a user's runs: the one their plane is connected to — for the shared pool,
 * any replica with pool planes. A user nobody hosts is claimed for this replica (it will start
 * the plane). One process: always here.
 */
export class RunPlacement {
  constructor(
    private readonly o: { cluster: Cluster; scheduler: Scheduler; logger: Logger; draining: () => boolean; kick: (sessionId: string) => void },
  ) {}

  async of(userId: string, orgId: string): Promise<string> {
    const { cluster, scheduler } = this.o;
    if (this.o.draining()) return LATER;
    if (!cluster.distributed) return HERE;
    if (await scheduler.usesPool(orgId)) {
      if (scheduler.pool!.size > 0) return HERE;
      const other = await cluster.hosts.poolReplica(scheduler.pool!.name);
      return other === null || other === cluster.replicaId ? HERE : other;
    }
    if (scheduler.hosts(userId)) return HERE;
    const host = await cluster.hosts.hostFor(userId);
    return host === cluster.replicaId ? HERE : host;
  }

  /** Starts the session's next piece of work here, or tells the replica that drives it (at most once: the lease sweep is the safety net). */
  route(sessionId: string, where: string): void {
    if (where === LATER) return;
    if (where === HERE) return this.o.kick(sessionId);
    void this.o.cluster.bus.send(where, { type: 'kick', sessionId }).catch((err) => this.o.logger.error({ err, sessionId }, 'kick not sent; the lease sweep will retry'));
  }
}
