import type { Logger } from 'pino';
import {
  SemibotError,
  type ErrorCode,
  type FinalRunStatus,
  type MsgOf,
  type PlaneToControl,
  type SseEvent,
} from '@semibot/protocol';
import type { Db } from '../db/db.js';
import type { Principal } from '../auth/tokens.js';
import type { EventLog } from '../events/event-log.js';
import type { PlaneConnection } from '../gateway/plane-connection.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { getAgent } from '../store/agents.js';
import { getSessionById, type Session } from '../store/sessions.js';
import { getMessageContent } from '../store/messages.js';
import { readEvents } from '../store/events.js';
import { skillIndex } from '../store/skills.js';
import { mcpSpecs } from '../store/mcp-servers.js';
import {
  claimNextRun,
  finalizeRun,
  listActiveRuns,
  nextAttempt,
  runningRunOf,
  submitMessage,
  type Run,
  type RunUsage,
  type SubmitResult,
} from '../store/runs.js';

/** A plane that does not confirm a cancel within this time has the run cancelled for it. */
const CANCEL_GRACE_MS = 5_000;
/** Deliveries of one run (the first plus re-deliveries after a plane was lost). */
const MAX_ATTEMPTS = 3;

interface ActiveRun {
  run: Run;
  conn: PlaneConnection | null;
  lastSeq: number;
  text: string[];
  usage: RunUsage | null;
  cancelRequested: boolean;
  cancelTimer: NodeJS.Timeout | null;
  finalizing: boolean;
  errorFromPlane?: { code: ErrorCode; message: string };
}

export interface RunEngineOptions {
  db: Db;
  log: EventLog;
  scheduler: Scheduler;
  logger: Logger;
}

/**
 * Drives runs: queued → running on the user's plane → completed/failed/cancelled. One run per
 * session at a time (the database enforces it; `kick` is also serialised per session in-process).
 */
export class RunEngine {
  private readonly active = new Map<string, ActiveRun>();
  private readonly kicks = new Map<string, Promise<void>>();
  readonly stats = { started: 0, completed: 0, failed: 0, cancelled: 0, redelivered: 0, staleEvents: 0 };

  constructor(private readonly o: RunEngineOptions) {}

  get activeCount(): number {
    return this.active.size;
  }

  async submit(p: Principal, session: Session, content: string, idempotencyKey: string | null): Promise<SubmitResult> {
    const result = await submitMessage(this.o.db, {
      orgId: p.orgId,
      userId: session.userId,
      sessionId: session.id,
      content,
      idempotencyKey,
    });
    if (!result.duplicate) this.kick(session.id);
    return result;
  }

  /** Starts the session's next queued run if none is running. Safe to call any time, any number of times. */
  kick(sessionId: string): void {
    const prev = this.kicks.get(sessionId) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        const run = await claimNextRun(this.o.db, sessionId);
        if (run) void this.start(run);
      })
      .catch((err) => this.o.logger.error({ err, sessionId }, 'kick failed'))
      .finally(() => {
        if (this.kicks.get(sessionId) === next) this.kicks.delete(sessionId);
      });
    this.kicks.set(sessionId, next);
  }

  private async start(run: Run): Promise<void> {
    const a: ActiveRun = { run, conn: null, lastSeq: 0, text: [], usage: null, cancelRequested: false, cancelTimer: null, finalizing: false };
    this.active.set(run.id, a);
    this.stats.started++;
    this.o.log.append(run.sessionId, { type: 'run', runId: run.id, messageId: run.messageId ?? '' });
    await this.deliver(a);
  }

  /** Gets the user's plane (starting it if needed) and hands it the run's current attempt. */
  private async deliver(a: ActiveRun): Promise<void> {
    const { run } = a;
    const log = this.o.logger.child({ runId: run.id, sessionId: run.sessionId, attempt: run.attempt });
    try {
      const session = await getSessionById(this.o.db, run.sessionId);
      const agent = session && (await getAgent(this.o.db, session.orgId, session.agentId));
      const content = run.messageId && (await getMessageContent(this.o.db, run.messageId));
      if (!session || !agent || content == null) throw new SemibotError('NOT_FOUND', 'session, agent or message no longer exists', 404);
      const conn = await this.o.scheduler.ensurePlane({ userId: run.userId, orgId: run.orgId });
      if (a.finalizing) return;
      if (a.cancelRequested) return void (await this.finish(a, 'cancelled'));
      a.conn = conn;
      // Sent before every turn: the agent's configuration (prompt, skills, servers) may have changed.
      const [skills, mcpServers] = await Promise.all([
        skillIndex(this.o.db, session.orgId, agent.skillIds),
        mcpSpecs(this.o.db, session.orgId, agent.mcpServerIds),
      ]);
      conn.send({
        type: 'start_session',
        sessionId: session.id,
        runtimeType: session.runtimeType ?? agent.runtimeType,
        agent: { id: agent.id, name: agent.name, systemPrompt: agent.systemPrompt, model: agent.model },
        skills,
        mcpServers,
      });
      conn.startedSessions.add(session.id);
      conn.send({
        type: 'user_message',
        sessionId: session.id,
        runId: run.id,
        messageId: run.messageId ?? '',
        attempt: run.attempt,
        content,
      });
      log.debug('run delivered to plane');
    } catch (err) {
      const e = SemibotError.is(err) ? err : new SemibotError('INTERNAL_ERROR', (err as Error).message, 500);
      if (!SemibotError.is(err)) log.error({ err }, 'run delivery failed');
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
    if (msg.seq <= a.lastSeq) return; // already relayed (a re-sent event)
    a.lastSeq = msg.seq;
    const event = msg.event;
    switch (event.type) {
      case 'done':
        void this.finish(a, event.status);
        return;
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
    this.o.log.append(a.run.sessionId, { ...event, runId: a.run.id } as SseEvent);
  }

  /**
   * Ends a run exactly once: the database first (status + the assistant's answer, atomically), then
   * the `done` event — so a client that sees `done` finds the answer in the history.
   */
  private async finish(
    a: ActiveRun,
    status: FinalRunStatus,
    error?: { code: ErrorCode; message: string; retryAfterMs?: number | undefined },
  ): Promise<void> {
    if (a.finalizing) return;
    a.finalizing = true;
    if (a.cancelTimer) clearTimeout(a.cancelTimer);
    const { run } = a;
    try {
      const stored = await finalizeRun(this.o.db, {
        runId: run.id,
        status,
        error: error ? { code: error.code, message: error.message } : status === 'failed' ? (a.errorFromPlane ?? null) : null,
        usage: a.usage,
        answer: a.text.join(''),
      });
      if (stored) {
        if (error) {
          this.o.log.append(run.sessionId, {
            type: 'error',
            runId: run.id,
            code: error.code,
            message: error.message,
            ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
          });
        }
        this.o.log.append(run.sessionId, { type: 'done', runId: run.id, status });
        this.stats[status]++;
      }
    } catch (err) {
      this.o.logger.error({ err, runId: run.id }, 'run finalisation failed');
    } finally {
      this.active.delete(run.id);
    }
    void this.o.log.prune(run.sessionId).catch((err) => this.o.logger.warn({ err }, 'event pruning failed'));
    this.kick(run.sessionId);
  }

  async cancel(p: Principal, sessionId: string): Promise<Run> {
    const run = await runningRunOf(this.o.db, sessionId);
    if (!run || run.orgId !== p.orgId) throw new SemibotError('NOT_RUNNING', 'no run is running in this session', 409);
    const a = this.active.get(run.id);
    if (!a) {
      // Running in the database but not driven by this process: nothing will ever finish it.
      await this.finish(this.detached(run), 'cancelled');
      return run;
    }
    a.cancelRequested = true;
    if (a.conn) {
      a.conn.send({ type: 'cancel', sessionId, runId: run.id });
      a.cancelTimer ??= setTimeout(() => void this.finish(a, 'cancelled'), CANCEL_GRACE_MS);
    }
    // Without a connection the run is still waiting for its plane; start() sees the flag.
    return run;
  }

  /**
   * A plane went away mid-run. The run is handed to a fresh plane as a new attempt (which resumes
   * from the run's last checkpoint on the plane's disk); events of the old attempt are ignored from
   * now on. After MAX_ATTEMPTS the run fails with a clear error instead.
   */
  onPlaneGone(conn: PlaneConnection, reason: string): void {
    for (const a of this.active.values()) {
      if (a.conn !== conn) continue;
      a.conn = null;
      if (a.cancelRequested) void this.finish(a, 'cancelled');
      else if (a.run.attempt >= MAX_ATTEMPTS) {
        void this.finish(a, 'failed', { code: 'RUN_INTERRUPTED', message: `execution plane lost ${a.run.attempt} times; last: ${reason}` });
      } else void this.redeliver(a, reason);
    }
  }

  private async redeliver(a: ActiveRun, reason: string): Promise<void> {
    const next = await nextAttempt(this.o.db, a.run.id);
    if (!next || a.finalizing) return;
    this.o.logger.warn({ runId: next.id, attempt: next.attempt, reason }, 'execution plane lost mid-run; re-delivering');
    this.stats.redelivered++;
    a.run = next;
    a.lastSeq = 0;
    await this.deliver(a);
  }

  /**
   * At start-up: runs left `running` by a previous process are ended with a clear error (their
   * plane connection died with that process); queued ones are started.
   */
  async recover(): Promise<{ interrupted: number; queuedSessions: number }> {
    const runs = await listActiveRuns(this.o.db);
    const sessions = new Set<string>();
    let interrupted = 0;
    for (const run of runs) {
      if (run.status === 'running' && !this.active.has(run.id)) {
        interrupted++;
        // What the client already saw is kept as the (partial) answer, rebuilt from the event log.
        const detached = this.detached(run);
        for (const { event } of await readEvents(this.o.db, run.sessionId, 0, { runId: run.id })) {
          if (event.type === 'text') detached.text.push(event.text);
        }
        await this.finish(detached, 'failed', {
          code: 'RUN_INTERRUPTED',
          message: 'the control plane restarted while this run was executing',
        });
      }
      sessions.add(run.sessionId);
    }
    for (const s of sessions) this.kick(s);
    return { interrupted, queuedSessions: sessions.size };
  }

  private detached(run: Run): ActiveRun {
    return { run, conn: null, lastSeq: 0, text: [], usage: null, cancelRequested: true, cancelTimer: null, finalizing: false };
  }
}
