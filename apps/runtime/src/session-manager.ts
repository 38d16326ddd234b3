import path from 'node:path';
import type { Logger } from 'pino';
import type {
  AgentSpec,
  ChatMessage,
  ControlToPlane,
  McpServerSpec,
  MsgOf,
  PlaneToControl,
  RuntimeType,
  SkillIndexEntry,
  SnapshotParams,
} from '@semibot/protocol';
import type { PlaneServices, RuntimeAdapter, TurnContext } from './adapter.js';
import { ShortTermMemory } from './short-term-memory.js';
import { StartGate } from './start-gate.js';
import { contextFrom, contextOf, endSpan, startSpan } from '@semibot/telemetry';

const PLANE_STOPPING = 'plane stopping';

/**
 * Events a turn that only ran the model emits. Any other (a tool, command, skill or MCP call) means
 * the turn may have changed the session's files, so its snapshot lists the work directory again.
 */
const MODEL_ONLY_EVENTS: ReadonlySet<string> = new Set(['text', 'usage', 'plan_step', 'step_restart', 'error', 'done']);

interface TurnEvents {
  /** the turn emitted an event outside MODEL_ONLY_EVENTS */
  sideEffects: boolean;
}

interface PlaneSession {
  id: string;
  agent: AgentSpec;
  runtimeType: RuntimeType;
  skills: SkillIndexEntry[];
  mcpServers: McpServerSpec[];
  /** null until loaded from disk or from the control plane */
  history: ChatMessage[] | null;
  /** its files on this plane's disk, once a turn has run */
  memory?: ShortTermMemory;
  /** turns run one after another, in arrival order */
  tail: Promise<void>;
  current: { runId: string; abort: AbortController } | null;
  /** cancels that arrived before their turn started */
  cancelled: Set<string>;
  /** newest attempt delivered per run: an older attempt's outcome is dropped */
  attempts: Map<string, number>;
}

export interface SessionManagerDeps {
  home: string;
  logger: Logger;
  adapters: Partial<Record<RuntimeType, RuntimeAdapter>>;
  send(msg: PlaneToControl): void;
  services: PlaneServices;
}

/** Hosts many sessions in one plane; each session's turns run in order through its runtime adapter. */
export class SessionManager {
  private readonly sessions = new Map<string, PlaneSession>();
  private running = 0;
  /** turns delivered together start a few at a time, the streams already running relayed between */
  private readonly starts = new StartGate(4);

  constructor(private readonly d: SessionManagerDeps) {}

  load(): { activeSessions: number; activeRuns: number } {
    return { activeSessions: this.sessions.size, activeRuns: this.running };
  }

  handle(msg: Exclude<ControlToPlane, { type: 'init' | 'response' | 'resume_response' | 'token' }>): void {
    switch (msg.type) {
      case 'start_session': {
        const s = this.sessions.get(msg.sessionId);
        if (s) {
          s.agent = msg.agent;
          s.runtimeType = msg.runtimeType;
          s.skills = msg.skills;
          s.mcpServers = msg.mcpServers;
        } else {
          this.sessions.set(msg.sessionId, {
            id: msg.sessionId,
            agent: msg.agent,
            runtimeType: msg.runtimeType,
            skills: msg.skills,
            mcpServers: msg.mcpServers,
            history: null,
            tail: Promise.resolve(),
            current: null,
            cancelled: new Set(),
            attempts: new Map(),
          });
        }
        return;
      }
      case 'user_message':
        return this.enqueue(msg);
      case 'cancel': {
        const s = this.sessions.get(msg.sessionId);
        if (!s) return;
        if (s.current?.runId === msg.runId) s.current.abort.abort();
        else s.cancelled.add(msg.runId);
        return;
      }
      case 'stop_session': {
        const s = this.sessions.get(msg.sessionId);
        s?.current?.abort.abort();
        this.sessions.delete(msg.sessionId);
        return;
      }
      case 'error':
        this.d.logger.warn({ code: msg.code, message: msg.message }, 'control plane reported an error');
        return;
    }
  }

  private enqueue(msg: MsgOf<ControlToPlane, 'user_message'>): void {
    let seq = 0;
    const turn: TurnEvents = { sideEffects: false };
    const send = (event: Parameters<TurnContext['emit']>[0]) => {
      if (!MODEL_ONLY_EVENTS.has(event.type)) turn.sideEffects = true;
      this.d.send({ type: 'sse_event', sessionId: msg.sessionId, runId: msg.runId, attempt: msg.attempt, seq: ++seq, event: { ...event, runId: msg.runId } as never });
    };
    const s = this.sessions.get(msg.sessionId);
    if (!s) {
      send({ type: 'error', code: 'UNKNOWN_SESSION', message: 'user_message for a session that was never started' });
      send({ type: 'done', status: 'failed' });
      return;
    }
    s.attempts.set(msg.runId, Math.max(msg.attempt, s.attempts.get(msg.runId) ?? 0));
    // A re-delivered run supersedes the attempt still running here (e.g. after a dropped socket).
    if (s.current?.runId === msg.runId) s.current.abort.abort();
    s.tail = s.tail.then(() => this.starts.pass()).then(() => this.runTurn(s, msg, send, turn));
  }

  private async runTurn(
    s: PlaneSession,
    msg: MsgOf<ControlToPlane, 'user_message'>,
    send: (e: Parameters<TurnContext['emit']>[0]) => void,
    turn: TurnEvents,
  ): Promise<void> {
    const log = this.d.logger.child({ sessionId: s.id, runId: msg.runId, attempt: msg.attempt, requestId: msg.requestId });
    if (s.cancelled.delete(msg.runId)) return send({ type: 'done', status: 'cancelled' });
    const adapter = this.d.adapters[s.runtimeType];
    if (!adapter) {
      send({ type: 'error', code: 'RUNTIME_ERROR', message: `runtime '${s.runtimeType}' is not available on this execution plane` });
      return send({ type: 'done', status: 'failed' });
    }
    const abort = new AbortController();
    s.current = { runId: msg.runId, abort };
    this.running++;
    const started = performance.now();
    log.info({ runtime: s.runtimeType }, 'turn started');
    const span = startSpan('semibot-runtime', 'turn', contextFrom(msg.traceparent), {
      'semibot.run_id': msg.runId,
      'semibot.session_id': s.id,
      'semibot.attempt': msg.attempt,
    });
    let outcome: string = 'failed';
    try {
      const memory = this.memoryOf(s);
      await memory.ready; // its directories: the turn's commands run in workDir
      const history = (s.history ??= (await memory.history()) ?? (await this.restore(memory, s.id, msg.runId)));
      const result = await adapter.runTurn({
        sessionId: s.id,
        runId: msg.runId,
        attempt: msg.attempt,
        agent: s.agent,
        skills: s.skills,
        mcpServers: s.mcpServers,
        services: this.d.services,
        planeHome: this.d.home,
        history,
        content: msg.content,
        signal: abort.signal,
        workDir: memory.workDir,
        sessionDir: this.sessionDir(s.id),
        emit: send,
        trace: contextOf(span),
        reportUsage: (u) =>
          this.d.send({ type: 'fire_and_forget', method: 'usage_report', params: { ...u, sessionId: s.id, runId: msg.runId } }),
      });
      if ((s.attempts.get(msg.runId) ?? 0) > msg.attempt) return; // superseded: the newer attempt records the turn
      // stopped with the plane: no `done` — the control plane re-delivers the run to a fresh plane
      if (abort.signal.reason === PLANE_STOPPING) return;
      s.attempts.delete(msg.runId);
      // a run delivered again after its turn was saved (its `done` was lost) is in the history already
      if (!memory.holdsTurn(msg.runId)) {
        const messages: ChatMessage[] = [{ role: 'user', content: msg.content }];
        if (result.answer) messages.push({ role: 'assistant', content: result.answer });
        history.push(...messages);
        await memory.saveTurn(msg.runId, messages, { workUntouched: !turn.sideEffects });
      }
      // read before `done` so both leave in the same tick (one frame): a plane that dies right after
      // a turn has still handed over that turn's snapshot (null: nothing changed since the last)
      const snapshot = await memory.snapshot(s.id, { workUntouched: !turn.sideEffects });
      outcome = result.status;
      send({ type: 'done', status: result.status });
      if (snapshot) this.d.services.fire('snapshot_sync', snapshot as unknown as Record<string, unknown>);
      log.info({ status: result.status, ms: Math.round(performance.now() - started), resumed: result.resumedFromCheckpoint ?? false }, 'turn finished');
    } catch (err) {
      if (abort.signal.reason === PLANE_STOPPING) return;
      log.error({ err }, 'turn failed');
      const code = (err as { code?: unknown }).code === 'OPENCLAW_BRIDGE_EXITED' ? 'OPENCLAW_BRIDGE_EXITED' : 'RUNTIME_ERROR';
      send({ type: 'error', code, message: (err as Error).message });
      send({ type: 'done', status: abort.signal.aborted ? 'cancelled' : 'failed' });
    } finally {
      endSpan(span, outcome === 'failed' ? 'turn failed' : undefined, { 'semibot.status': outcome });
      this.running--;
      s.current = null;
    }
  }

  private memoryOf(s: PlaneSession): ShortTermMemory {
    return (s.memory ??= new ShortTermMemory(this.sessionDir(s.id)));
  }

  private sessionDir(sessionId: string): string {
    return path.join(this.d.home, 'sessions', sessionId);
  }

  /**
   * A session this plane has no state for (a new one, or a plane that lost its disk): its history
   * from the control plane's stored messages, its notes from the latest snapshot.
   */
  private async restore(memory: ShortTermMemory, sessionId: string, runId: string): Promise<ChatMessage[]> {
    const [{ snapshot }, { messages }] = await Promise.all([
      this.d.services.request<{ snapshot: SnapshotParams | null }>('get_snapshot', { sessionId }),
      this.d.services.request<{ messages: ChatMessage[] }>('get_history', { sessionId, excludeRunId: runId }),
    ]);
    await memory.restore(snapshot, messages);
    return messages;
  }

  /** A new connection to the control plane: each session's next snapshot is sent whatever it holds. */
  connected(): void {
    for (const s of this.sessions.values()) s.memory?.resendSnapshot();
  }

  /** A last snapshot of every session with state (the plane is about to stop). */
  async snapshotAll(): Promise<void> {
    await Promise.all(
      [...this.sessions.values()].map(async (s) => {
        if (!s.history) return;
        const snapshot = await this.memoryOf(s).snapshot(s.id);
        if (snapshot) this.d.services.fire('snapshot_sync', snapshot as unknown as Record<string, unknown>);
      }),
    );
  }

  /** The plane is stopping: turns end at once, reporting nothing (their runs are re-delivered). */
  abortAll(): void {
    for (const s of this.sessions.values()) s.current?.abort.abort(PLANE_STOPPING);
  }
}
