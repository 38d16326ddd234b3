import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import type { PlaneConnection } from '../gateway/plane-connection.js';
import type { EventLog } from '../events/event-log.js';
import { listActiveRuns, nextAttempt } from '../store/runs.js';
import { newActiveRun, type ActiveRun, type RunHost } from './active-run.js';

export interface PlaneLossOptions {
  db: Db;
  events: EventLog;
  logger: Logger;
  /** how long a run waits for its plane to reconnect before it is handed to a fresh plane */
  reconnectGraceMs: number;
  /** deliveries of one run: the first plus re-deliveries */
  maxAttempts: number;
}

/**
 * What happens to runs when their execution plane goes away:
 *  - the socket drops but the plane lives → wait `reconnectGraceMs` for it; when it comes back,
 *    the same attempt continues and the plane flushes the events it buffered (duplicates dropped);
 *  - the plane process is gone (or does not return in time, or lost events) → the run becomes a
 *    new attempt on a fresh plane, which resumes from the run's last checkpoint;
 *  - the control plane itself restarted → its running runs are re-delivered the same way.
 * After `maxAttempts` deliveries a run fails with RUN_INTERRUPTED instead.
 */
export class PlaneLoss {
  redelivered = 0;

  constructor(
    private readonly host: RunHost,
    private readonly o: PlaneLossOptions,
  ) {}

  onDisconnected(conn: PlaneConnection, reason: string): void {
    for (const a of this.host.activeRuns()) {
      if (a.conn !== conn) continue;
      a.conn = null;
      if (a.cancelRequested) {
        void this.host.finish(a, 'cancelled');
        continue;
      }
      a.detached = { instanceId: conn.instanceId, timer: setTimeout(() => void this.lose(a, `plane did not reconnect: ${reason}`), this.o.reconnectGraceMs) };
    }
  }

  /** The same plane dialled back in: its runs continue where they were (unless it is a new process). */
  onConnected(conn: PlaneConnection): void {
    for (const a of this.host.activeRuns()) {
      // A run still bound to an older socket of this plane waits for it just the same: the plane
      // came back before that socket was seen to close (half-open), and the new socket replaces it.
      const stale = a.conn !== null && a.conn !== conn && a.conn.instanceId === conn.instanceId;
      if (a.detached?.instanceId !== conn.instanceId && !stale) continue;
      if (conn.freshBootstrap) {
        void this.lose(a, 'a new plane process replaced the one running this attempt');
        continue;
      }
      if (a.detached) clearTimeout(a.detached.timer);
      a.detached = null;
      a.conn = conn;
    }
  }

  /** The plane's process exited: nothing it was running can finish, so re-deliver at once. */
  onExited(instanceId: string, why: string): void {
    for (const a of this.host.activeRuns()) {
      if (a.detached?.instanceId === instanceId || a.conn?.instanceId === instanceId) void this.lose(a, why);
    }
  }

  /** Events of the current attempt went missing (the plane's buffer overflowed): start it over from its checkpoint. */
  onGap(a: ActiveRun, expected: number, got: number): void {
    void this.lose(a, `events ${expected}..${got - 1} of attempt ${a.run.attempt} never arrived`);
  }

  async lose(a: ActiveRun, reason: string): Promise<void> {
    if (a.detached) clearTimeout(a.detached.timer);
    a.detached = null;
    a.conn = null;
    if (a.finalizing) return;
    if (a.cancelRequested) return this.host.finish(a, 'cancelled');
    if (a.run.attempt >= this.o.maxAttempts) {
      return this.host.finish(a, 'failed', { code: 'RUN_INTERRUPTED', message: `execution plane lost ${a.run.attempt} times; last: ${reason}` });
    }
    const next = await nextAttempt(this.o.db, a.run.id, this.host.lease);
    if (!next || a.finalizing) return;
    await this.host.raiseFence(next);
    this.o.logger.warn({ runId: next.id, attempt: next.attempt, reason }, 'run re-delivered to a fresh plane');
    this.redelivered++;
    a.run = next;
    a.lastSeq = 0;
    await this.host.deliver(a);
  }

  /**
   * At start-up: runs a previous control-plane process left `running` are resumed as new attempts
   * (their checkpoints are on the planes' disks); what the client already saw is rebuilt from the
   * event log, so `step_restart` trims it correctly. Queued runs are started.
   */
  async recover(): Promise<{ resumed: number; queuedSessions: number }> {
    const runs = await listActiveRuns(this.o.db);
    const sessions = new Set<string>();
    let resumed = 0;
    for (const run of runs) {
      sessions.add(run.sessionId);
      if (run.status !== 'running') continue;
      const a = newActiveRun(run);
      for (const { event } of await this.o.events.runEvents(run.sessionId, run.id)) {
        if (event.type === 'text') a.text.push(event.text);
        if (event.type === 'step_restart') a.text = [a.text.join('').slice(0, event.textLength)];
      }
      this.host.adopt(a);
      resumed++;
      void this.lose(a, 'the control plane restarted while this run was executing');
    }
    for (const s of sessions) this.host.kick(s);
    return { resumed, queuedSessions: sessions.size };
  }
}
