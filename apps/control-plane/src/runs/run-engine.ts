import type { Logger } from 'pino';
import {
  SemibotError,
  type ErrorCode,
  type FinalRunStatus,
  type MsgOf,
  type PlaneEvent,
  type PlaneToControl,
  type SseEvent,
} from '@semibot/protocol';
import type { Db } from '../db/db.js';
import type { Principal } from '../auth/tokens.js';
import type { EventLog } from '../events/event-log.js';
import type { PlaneConnection } from '../gateway/plane-connection.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Session } from '../store/sessions.js';
import { skillIndex } from '../store/skills.js';
import { mcpSpecs } from '../store/mcp-servers.js';
import {
  claimSession,
  deliveryOf,
  releaseLeases,
  finalizeRun,
  markDirect,
  runningRunOf,
  submitMessage,
  type Delivery,
  type Lease,
  type Run,
  type SubmitResult,
} from '../store/runs.js';
import type { Cluster, ReplicaMessage } from '../cluster/cluster.js';
import { PlaneElsewhere } from '../scheduler/scheduler.js';
import { HERE, RunPlacement } from './placement.js';
import { newActiveRun, type ActiveRun, type RunError, type RunHost } from './active-run.js';
import { PlaneLoss } from './plane-loss.js';
import type { ExecutionPath, ExecutionPaths } from './execution.js';
import { contextFrom, endSpan, startSpan, traceparentOf } from '@semibot/telemetry';

/** A run event other than `done`, with or without its runId (the engine sets it). */
type RelayedEvent = Exclude<PlaneEvent, { type: 'done' }> extends infer E ? (E extends { runId: string } ? Omit<E, 'runId'> : never) : never;

/** A plane that does not confirm a cancel within this time has the run cancelled for it. */
const CANCEL_GRACE_MS = 5_000;
export interface RunEngineOptions {
  db: Db;
  log: EventLog;
  scheduler: Scheduler;
  logger: Logger;
  cluster: Cluster;
  /** how long a run's lease lasts unrenewed (its driver renews it at a third of this) */
  leaseMs: number;
  /** how long a run waits for its plane to reconnect @default 10s */
  reconnectGraceMs?: number;
  /** deliveries of one run before it fails @default 3 */
  maxAttempts?: number;
  /** runtime or direct, and the fallback monitor; absent: every run goes through a plane */
  execution?: ExecutionPaths;
}

/**
 * Drives runs: queued → running on the user's plane → completed/failed/cancelled. One run per
 * session at a time (the database enforces it; `kick` is also serialised per session in-process).
 *
 * Across replicas a run is driven by the replica hosting its user's plane (the plane's socket is
 * there), under a lease that replica renews (leases.ts); work that arrives elsewhere is routed
 * there over the bus, and a dead driver's runs are taken over from their checkpoints as new
 * attempts. The attempt number is the fencing token: events and finalisations of an older
 * attempt are refused (by the shared event tail and by the database).
 */
export class RunEngine implements RunHost {
  private readonly active = new Map<string, ActiveRun>();
  /** session id → the run of it driven here */
  private readonly activeSessions = new Map<string, string>();
  readonly lease: Lease;
  private draining = false;
  private readonly placement: RunPlacement;
  private readonly kicks = new Map<string, Promise<void>>();
  /** trace context of the request that submitted a run, until the run starts */
  private readonly traceParents = new Map<string, string>();
  readonly stats = { started: 0, completed: 0, failed: 0, cancelled: 0, staleEvents: 0 };
  readonly planeLoss: PlaneLoss;
  /** told of every run that ends here (metrics) */
  onFinished: (status: FinalRunStatus, seconds: number) => void = () => {};

  constructor(private readonly o: RunEngineOptions) {
    this.lease = { owner: o.cluster.replicaId, ms: o.leaseMs };
    this.placement = new RunPlacement({ cluster: o.cluster, scheduler: o.scheduler, logger: o.logger, draining: () => this.draining, kick: (s) => this.kick(s) });
    o.cluster.bus.onMessage((msg) => this.onReplicaMessage(msg));
    this.planeLoss = new PlaneLoss(this, {
      db: o.db,
      events: o.log,
      logger: o.logger,
      reconnectGraceMs: o.reconnectGraceMs ?? 10_000,
      maxAttempts: o.maxAttempts ?? 3,
    });
  }

  activeRuns(): Iterable<ActiveRun> {
    return this.active.values();
  }

  adopt(a: ActiveRun): void {
    this.active.set(a.run.id, a);
    this.activeSessions.set(a.run.sessionId, a.run.id);
  }

  private release(a: ActiveRun): void {
    if (this.active.get(a.run.id) === a) this.active.delete(a.run.id);
    if (this.activeSessions.get(a.run.sessionId) === a.run.id) this.activeSessions.delete(a.run.sessionId);
  }

  /** Appends one of the run's events under its current attempt (the tail's fencing token). */
  private append(a: ActiveRun, event: SseEvent): void {
    this.o.log.append(a.run.sessionId, event, a.run.attempt);
  }

  /** A new attempt begins here: older attempts' events are refused from now on (shared tail). */
  async raiseFence(run: Run): Promise<void> {
    await this.o.cluster.tail?.raiseFence(run.sessionId, run.id, run.attempt);
  }

  /**
   * This replica no longer holds the run (its lease was not renewed in time, or a newer attempt's
   * fence refused its events): another replica drives it now. Nothing is finalised here.
   */
  lostLease(runId: string): void {
    const a = this.active.get(runId);
    if (!a || a.finalizing) return;
    this.o.logger.warn({ runId, attempt: a.run.attempt }, 'run lease lost: another replica drives it now');
    if (a.cancelTimer) clearTimeout(a.cancelTimer);
    if (a.detached) clearTimeout(a.detached.timer);
    a.finalizing = true; // nothing more from here: no finish, no re-delivery
    this.release(a);
    // the plane stops working on the superseded attempt (its events would be refused anyway)
    a.conn?.send({ type: 'cancel', sessionId: a.run.sessionId, runId: a.run.id });
    if (a.span) endSpan(a.span, 'lease lost', { 'semibot.attempt': a.run.attempt });
  }

  /** The user's plane is hosted by another replica: that one drives the run (it takes it over at once). */
  private async handOver(a: ActiveRun, replicaId: string): Promise<void> {
    this.o.logger.info({ runId: a.run.id, to: replicaId }, 'run handed to the replica hosting its plane');
    this.lostLease(a.run.id);
    await releaseLeases(this.o.db, [a.run.id], this.lease.owner);
    await this.o.cluster.bus.send(replicaId, { type: 'kick', sessionId: a.run.sessionId });
  }

  /** From now on this replica starts nothing new (SIGTERM): what it drives may finish. */
  startDraining(): void {
    this.draining = true;
  }

  activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  private onReplicaMessage(msg: ReplicaMessage): void {
    switch (msg.type) {
      case 'kick':
        return this.kick(msg.sessionId);
      case 'cancel': {
        const a = this.active.get(msg.runId);
        if (a) this.requestCancel(a);
        return;
      }
      default:
        // another version of the control plane (a rolling update) may send what this one does not know
        this.o.logger.warn({ type: (msg as { type?: unknown }).type }, 'unknown replica message ignored');
    }
  }

  /** Whether any run of this user is being driven here (the plane is busy). */
  busy(userId: string): boolean {
    for (const a of this.active.values()) if (a.run.userId === userId) return true;
    return false;
  }

  get activeCount(): number {
    return this.active.size;
  }

  async submit(
    p: Principal,
    session: Session,
    content: string,
    idempotencyKey: string | null,
    requestId?: string,
    traceparent?: string,
  ): Promise<SubmitResult> {
    // claimed as it is stored only where it will be driven: here, when this replica hosts the plane
    const where = await this.placement.of(session.userId, p.orgId);
    const result = await submitMessage(this.o.db, {
      orgId: p.orgId,
      userId: session.userId,
      sessionId: session.id,
      content,
      idempotencyKey,
      requestId: requestId ?? null,
      claim: where === HERE ? this.lease : null,
    });
    if (!result.duplicate) {
      if (traceparent) this.traceParents.set(result.run.id, traceparent);
      // claimed as it was stored (the session was idle): no claim round trip, no delivery query
      if (result.delivery !== undefined) void this.start(result.run, result.delivery);
      else this.placement.route(session.id, where);
    }
    return result;
  }

  /**
   * Routes a session's next piece of work to the replica that drives its user's runs (see
   * placement). At most once: a lost message is found by the lease sweep.
   */
  dispatch(sessionId: string, userId: string, orgId: string): void {
    void this.placement.of(userId, orgId).then(
      (where) => this.placement.route(sessionId, where),
      (err) => this.o.logger.error({ err, sessionId }, 'dispatch failed; the lease sweep will retry'),
    );
  }

  /**
   * Drives the session's next piece of work here if it has any: its running run when that run's
   * driver is gone (a takeover), else its oldest queued run. Safe to call any time, any number of times.
   */
  kick(sessionId: string): void {
    const prev = this.kicks.get(sessionId) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        if (this.draining) return; // a draining replica takes no new work; the others' sweeps do
        if (this.activeSessions.has(sessionId)) return; // its run is driven here; its end kicks again
        const claimed = await claimSession(this.o.db, sessionId, this.lease);
        if (!claimed) return;
        if (claimed.takeover) await this.takeOver(claimed.run);
        else void this.start(claimed.run);
      })
      .catch((err) => this.o.logger.error({ err, sessionId }, 'kick failed'))
      .finally(() => {
        if (this.kicks.get(sessionId) === next) this.kicks.delete(sessionId);
      });
    this.kicks.set(sessionId, next);
  }

  private async start(run: Run, delivery?: Delivery | null): Promise<void> {
    const a = newActiveRun(run);
    a.span = startSpan('semibot-control-plane', 'run', contextFrom(this.traceParents.get(run.id)), {
      'semibot.run_id': run.id,
      'semibot.session_id': run.sessionId,
    });
    this.traceParents.delete(run.id);
    this.adopt(a);
    this.stats.started++;
    this.append(a, { type: 'run', runId: run.id, messageId: run.messageId ?? '' });
    await this.deliver(a, delivery);
  }

  /**
   * A running run whose driver died (its lease expired) continues here as a new attempt: the
   * plane resumes it from its last checkpoint, and what the client already saw is rebuilt from the
   * event log so `step_restart` trims the answer correctly.
   */
  private async takeOver(run: Run): Promise<void> {
    await this.raiseFence(run);
    const a = newActiveRun(run);
    for (const { event } of await this.o.log.runEvents(run.sessionId, run.id)) {
      if (event.type === 'text') a.text.push(event.text);
      if (event.type === 'step_restart') a.text = [a.text.join('').slice(0, event.textLength)];
    }
    this.adopt(a);
    this.planeLoss.redelivered++;
    this.o.logger.warn({ runId: run.id, sessionId: run.sessionId, attempt: run.attempt, previousOwner: run.leaseOwner }, 'run taken over from a replica that stopped driving it');
    await this.deliver(a);
  }

  /** Gets the user's plane (starting it if needed) and hands it the run's current attempt. */
  async deliver(a: ActiveRun, known?: Delivery | null): Promise<void> {
    const { run } = a;
    const log = this.o.logger.child({ runId: run.id, sessionId: run.sessionId, attempt: run.attempt, requestId: run.requestId });
    let d: Delivery | null = null;
    try {
      d = known !== undefined ? known : await deliveryOf(this.o.db, run);
      if (!d) throw new SemibotError('NOT_FOUND', 'session, agent or message no longer exists', 404);
      if (this.o.execution) {
        a.path = this.o.execution.choose(run, d);
        if (a.path.mode === 'direct') return await this.runDirect(a, d, a.path);
      }
      const conn = await this.o.scheduler.ensurePlane({ userId: run.userId, orgId: run.orgId }, { sessionId: run.sessionId, agentId: d.agent.id });
      if (a.finalizing) return;
      if (a.cancelRequested) return void (await this.finish(a, 'cancelled'));
      a.conn = conn;
      // Read before every turn: the agent's configuration (prompt, skills, servers) may have changed
      // (the plane is sent it again only then: PlaneConnection.startSession).
      const [skills, mcpServers] = await Promise.all([
        skillIndex(this.o.db, d.orgId, d.skillIds),
        mcpSpecs(this.o.db, d.orgId, d.mcpServerIds),
      ]);
      // a pool plane reaches exactly what it is handed here (scheduler/pool.ts)
      if (conn.pool) this.o.scheduler.pool?.assign(conn, { sessionId: d.sessionId, orgId: run.orgId, userId: run.userId }, skills.map((s) => s.id), mcpServers.map((m) => m.id));
      conn.startSession({ type: 'start_session', sessionId: d.sessionId, runtimeType: d.runtimeType ?? this.o.scheduler.defaultRuntime, agent: d.agent, skills, mcpServers });
      conn.send({
        type: 'user_message',
        sessionId: d.sessionId,
        runId: run.id,
        messageId: run.messageId ?? '',
        attempt: run.attempt,
        content: d.content,
        ...(run.requestId ? { requestId: run.requestId } : {}),
        ...(a.span && traceparentOf(a.span) ? { traceparent: traceparentOf(a.span) } : {}),
      });
      this.o.scheduler.touch(conn.instanceId);
      log.info({ instanceId: conn.instanceId }, 'run delivered to plane');
    } catch (err) {
      if (err instanceof PlaneElsewhere) return this.handOver(a, err.replicaId);
      const e = SemibotError.is(err) ? err : new SemibotError('INTERNAL_ERROR', (err as Error).message, 500);
      if (!SemibotError.is(err)) log.error({ err }, 'run delivery failed');
      // no plane could start: counted against the runtime path, and the run itself goes direct
      const instead = d && a.path && this.o.execution?.planeUnavailable(run, a.path, e.code, e.message);
      if (d && instead && !a.finalizing) {
        log.warn({ reason: instead.reason }, 'run falls back to direct');
        a.path = instead;
        return await this.runDirect(a, d, instead);
      }
      await this.finish(a, 'failed', { code: e.code, message: e.message, retryAfterMs: e.extra.retryAfterMs });
    }
  }

  /** An event from a plane. Events of runs this plane does not hold, or of an old attempt, are dropped. */
  onPlaneEvent(conn: PlaneConnection, msg: MsgOf<PlaneToControl, 'sse_event'>): void {
    const a = this.active.get(msg.runId);
    if (!a || a.conn !== conn || a.run.attempt !== msg.attempt || a.run.sessionId !== msg.sessionId) {
      this.stats.staleEvents++;
      return;
    }
    if (msg.seq <= a.lastSeq) return; // already relayed (re-sent after a reconnect)
    if (msg.seq !== a.lastSeq + 1) return this.planeLoss.onGap(a, a.lastSeq + 1, msg.seq);
    a.lastSeq = msg.seq;
    if (msg.event.type === 'done') return void this.finish(a, msg.event.status);
    this.relay(a, msg.event);
  }

  /** A run event (a plane's, or the direct path's): kept in the run's state and appended to the log. */
  private relay(a: ActiveRun, event: RelayedEvent): void {
    switch (event.type) {
      case 'step_restart': {
        // the new attempt continues from a checkpoint: text streamed after it is void
        const kept = a.text.join('').slice(0, event.textLength);
        a.text = kept ? [kept] : [];
        break;
      }
      case 'text':
        a.text.push(event.text);
        break;
      case 'usage': {
        const u = (a.usage ??= { tokensIn: 0, tokensOut: 0, calls: 0 });
        u.tokensIn += event.tokensIn;
        u.tokensOut += event.tokensOut;
        u.calls++;
        break;
      }
      case 'error':
        a.errorFromPlane = { code: event.code, message: event.message };
        break;
      default:
        break;
    }
    this.append(a, { ...event, runId: a.run.id } as SseEvent);
  }

  /** Streams the run from the LLM here (no plane), with the same events a plane would send. */
  private async runDirect(a: ActiveRun, d: Delivery, path: ExecutionPath): Promise<void> {
    const abort = (a.directAbort = new AbortController());
    if (a.cancelRequested) return void (await this.finish(a, 'cancelled'));
    let r: Awaited<ReturnType<ExecutionPaths['direct']['run']>>;
    try {
      await markDirect(this.o.db, a.run.id, path.reason);
      r = await this.o.execution!.direct.run(a.run, d, (e) => !a.finalizing && this.relay(a, e), abort.signal);
    } catch (err) {
      // (the database failing under it: this may run from deliver's catch, so nothing may escape)
      this.o.logger.error({ err, runId: a.run.id }, 'direct run failed');
      r = { ok: false, error: { code: 'INTERNAL_ERROR', message: (err as Error).message } };
    }
    if (a.finalizing) return;
    if (a.cancelRequested) return void (await this.finish(a, 'cancelled'));
    if (r.ok) await this.finish(a, 'completed');
    else await this.finish(a, 'failed', r.error);
  }

  /**
   * Ends a run exactly once: the database first (status + the assistant's answer, atomically), then
   * the `done` event — so a client that sees `done` finds the answer in the history.
   */
  async finish(a: ActiveRun, status: FinalRunStatus, error?: RunError): Promise<void> {
    if (a.finalizing) return;
    a.finalizing = true;
    if (a.cancelTimer) clearTimeout(a.cancelTimer);
    if (a.detached) clearTimeout(a.detached.timer);
    const { run } = a;
    // the session's next run: claimed after this one ends, unless the store said none is queued and
    // no other process can have queued one meanwhile (embedded PGlite: this process is the only
    // writer and runs one statement at a time, so a later submit sees this run ended and claims
    // its own run) — a claim statement saved per run
    let claimNext = true;
    try {
      const stored = await finalizeRun(this.o.db, {
        runId: run.id,
        status,
        error: error ? { code: error.code, message: error.message } : status === 'failed' ? (a.errorFromPlane ?? null) : null,
        usage: a.usage,
        answer: a.text.join(''),
        attempt: a.adopted === false ? null : run.attempt,
      });
      if (stored) {
        if (this.o.db.kind === 'pglite' && !stored.queuedBehind) claimNext = false;
        if (error) {
          this.append(a, {
            type: 'error',
            runId: run.id,
            code: error.code,
            message: error.message,
            ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
          });
        }
        this.append(a, { type: 'done', runId: run.id, status });
        this.stats[status]++;
        if (a.path) this.o.execution?.finished(run, a.path, status, error?.code ?? a.errorFromPlane?.code ?? null);
        if (stored.startedAt) this.onFinished(status, (Date.now() - Date.parse(stored.startedAt)) / 1000);
        this.o.logger.info({ runId: run.id, sessionId: run.sessionId, requestId: run.requestId, status, attempt: run.attempt }, 'run finished');
      }
    } catch (err) {
      this.o.logger.error({ err, runId: run.id }, 'run finalisation failed');
    } finally {
      this.release(a);
      if (a.span) endSpan(a.span, status === 'failed' ? (error?.message ?? a.errorFromPlane?.message ?? 'failed') : undefined, { 'semibot.status': status, 'semibot.attempt': a.run.attempt });
    }
    void this.o.log.prune(run.sessionId).catch((err) => this.o.logger.warn({ err }, 'event pruning failed'));
    if (claimNext) this.dispatch(run.sessionId, run.userId, run.orgId);
  }

  async cancel(p: Principal, sessionId: string): Promise<Run> {
    const run = await runningRunOf(this.o.db, sessionId);
    if (!run || run.orgId !== p.orgId) throw new SemibotError('NOT_RUNNING', 'no run is running in this session', 409);
    const a = this.active.get(run.id);
    if (a) {
      this.requestCancel(a);
      return run;
    }
    const leased = run.leaseOwner && run.leaseExpiresAt && Date.parse(run.leaseExpiresAt) > Date.now();
    if (leased && run.leaseOwner !== this.lease.owner) {
      await this.o.cluster.bus.send(run.leaseOwner!, { type: 'cancel', sessionId, runId: run.id });
      return run;
    }
    // Running in the database but driven by nobody alive: nothing else will ever finish it.
    await this.finish(newActiveRun(run, { cancelRequested: true, adopted: false }), 'cancelled');
    return run;
  }

  private requestCancel(a: ActiveRun): void {
    const { run } = a;
    const sessionId = run.sessionId;
    a.cancelRequested = true;
    a.directAbort?.abort(); // a direct run ends as its stream stops (runDirect finishes it)
    if (a.conn) {
      a.conn.send({ type: 'cancel', sessionId, runId: run.id });
      a.cancelTimer ??= setTimeout(() => void this.finish(a, 'cancelled'), CANCEL_GRACE_MS);
    }
    // Without a connection the run is still waiting for its plane; deliver() sees the flag.
  }
}
