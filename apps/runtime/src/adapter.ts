import type { AgentSpec, ChatMessage, FinalRunStatus, PlaneEvent, RuntimeType, UsageReport } from '@semibot/protocol';

/** A run event as an adapter emits it; the session manager adds runId and numbering. */
export type EmittedEvent = PlaneEvent extends infer E ? (E extends { runId: string } ? Omit<E, 'runId'> : never) : never;

export interface TurnContext {
  sessionId: string;
  runId: string;
  agent: AgentSpec;
  /** completed turns before this one, oldest first */
  history: readonly ChatMessage[];
  content: string;
  /** aborted on cancel or stop_session */
  signal: AbortSignal;
  /** the session's working directory on the plane's disk */
  workDir: string;
  emit(event: EmittedEvent): void;
  reportUsage(usage: Omit<UsageReport, 'sessionId' | 'runId'>): void;
}

export interface TurnResult {
  status: FinalRunStatus;
  /** the assistant's full answer, kept in the session's history */
  answer: string;
}

/** One way of executing a turn: our SemiGraph, or OpenClaw through its bridge. */
export interface RuntimeAdapter {
  readonly type: RuntimeType;
  runTurn(ctx: TurnContext): Promise<TurnResult>;
}
