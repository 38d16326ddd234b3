import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AgentSpec, ChatMessage, ControlToPlane, MsgOf, PlaneToControl, RuntimeType } from '@semibot/protocol';
import type { RuntimeAdapter, TurnContext } from './adapter.js';

interface PlaneSession {
  id: string;
  agent: AgentSpec;
  runtimeType: RuntimeType;
  /** null until loaded from disk or from the control plane */
  history: ChatMessage[] | null;
  /** turns run one after another, in arrival order */
  tail: Promise<void>;
  current: { runId: string; abort: AbortController } | null;
  /** cancels that arrived before their turn started */
  cancelled: Set<string>;
}

export interface SessionManagerDeps {
  home: string;
  logger: Logger;
  adapters: Partial<Record<RuntimeType, RuntimeAdapter>>;
  send(msg: PlaneToControl): void;
  getHistory(sessionId: string, excludeRunId: string): Promise<ChatMessage[]>;
}

/** Hosts many sessions in one plane; each session's turns run in order through its runtime adapter. */
export class SessionManager {
  private readonly sessions = new Map<string, PlaneSession>();
  private running = 0;

  constructor(private readonly d: SessionManagerDeps) {}

  load(): { activeSessions: number; activeRuns: number } {
    return { activeSessions: this.sessions.size, activeRuns: this.running };
  }

  handle(msg: Exclude<ControlToPlane, { type: 'init' | 'response' | 'resume_response' }>): void {
    switch (msg.type) {
      case 'start_session': {
        const s = this.sessions.get(msg.sessionId);
        if (s) {
          s.agent = msg.agent;
          s.runtimeType = msg.runtimeType;
        } else {
          this.sessions.set(msg.sessionId, {
            id: msg.sessionId,
            agent: msg.agent,
            runtimeType: msg.runtimeType,
            history: null,
            tail: Promise.resolve(),
            current: null,
            cancelled: new Set(),
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
    const send = (event: Parameters<TurnContext['emit']>[0]) =>
      this.d.send({ type: 'sse_event', sessionId: msg.sessionId, runId: msg.runId, attempt: msg.attempt, seq: ++seq, event: { ...event, runId: msg.runId } as never });
    const s = this.sessions.get(msg.sessionId);
    if (!s) {
      send({ type: 'error', code: 'UNKNOWN_SESSION', message: 'user_message for a session that was never started' });
      send({ type: 'done', status: 'failed' });
      return;
    }
    s.tail = s.tail.then(() => this.runTurn(s, msg, send));
  }

  private async runTurn(
    s: PlaneSession,
    msg: MsgOf<ControlToPlane, 'user_message'>,
    send: (e: Parameters<TurnContext['emit']>[0]) => void,
  ): Promise<void> {
    const log = this.d.logger.child({ sessionId: s.id, runId: msg.runId });
    if (s.cancelled.delete(msg.runId)) return send({ type: 'done', status: 'cancelled' });
    const adapter = this.d.adapters[s.runtimeType];
    if (!adapter) {
      send({ type: 'error', code: 'RUNTIME_ERROR', message: `runtime '${s.runtimeType}' is not available on this execution plane` });
      return send({ type: 'done', status: 'failed' });
    }
    const abort = new AbortController();
    s.current = { runId: msg.runId, abort };
    this.running++;
    try {
      const workDir = this.sessionDir(s.id);
      s.history ??= this.readHistory(workDir) ?? (await this.d.getHistory(s.id, msg.runId));
      const result = await adapter.runTurn({
        sessionId: s.id,
        runId: msg.runId,
        agent: s.agent,
        history: s.history,
        content: msg.content,
        signal: abort.signal,
        workDir,
        emit: send,
        reportUsage: (u) =>
          this.d.send({ type: 'fire_and_forget', method: 'usage_report', params: { ...u, sessionId: s.id, runId: msg.runId } }),
      });
      s.history.push({ role: 'user', content: msg.content });
      if (result.answer) s.history.push({ role: 'assistant', content: result.answer });
      this.writeHistory(workDir, s.history);
      send({ type: 'done', status: result.status });
    } catch (err) {
      log.error({ err }, 'turn failed');
      send({ type: 'error', code: 'RUNTIME_ERROR', message: (err as Error).message });
      send({ type: 'done', status: abort.signal.aborted ? 'cancelled' : 'failed' });
    } finally {
      this.running--;
      s.current = null;
    }
  }

  private sessionDir(sessionId: string): string {
    const dir = path.join(this.d.home, 'sessions', sessionId);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private readHistory(dir: string): ChatMessage[] | null {
    try {
      return JSON.parse(readFileSync(path.join(dir, 'conversation.json'), 'utf8')) as ChatMessage[];
    } catch {
      return null;
    }
  }

  /** Write-then-rename, so a crash mid-write leaves the previous file intact. */
  private writeHistory(dir: string, history: ChatMessage[]): void {
    const file = path.join(dir, 'conversation.json');
    writeFileSync(file + '.tmp', JSON.stringify(history));
    renameSync(file + '.tmp', file);
  }

  abortAll(): void {
    for (const s of this.sessions.values()) s.current?.abort.abort();
  }
}
