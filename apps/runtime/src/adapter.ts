import type { Context } from '@semibot/telemetry';
import type {
  AgentSpec,
  ChatMessage,
  FinalRunStatus,
  FireAndForgetMethod,
  McpServerSpec,
  PlaneEvent,
  RequestMethod,
  RuntimeType,
  SkillIndexEntry,
  UsageReport,
} from '@semibot/protocol';

/** A run event as an adapter emits it; the session manager adds runId and numbering. */
export type EmittedEvent = PlaneEvent extends infer E ? (E extends { runId: string } ? Omit<E, 'runId'> : never) : never;

/** What a runtime may ask of the control plane, over the plane's one connection. */
export interface PlaneServices {
  request<T = unknown>(method: RequestMethod, params: Record<string, unknown>, sessionId?: string): Promise<T>;
  fire(method: FireAndForgetMethod, params: Record<string, unknown>): void;
}

export interface TurnContext {
  sessionId: string;
  runId: string;
  /** 1 for a fresh run; higher when the control plane re-delivers an interrupted run */
  attempt: number;
  agent: AgentSpec;
  skills: readonly SkillIndexEntry[];
  mcpServers: readonly McpServerSpec[];
  services: PlaneServices;
  /** the plane's own directory (its disk), for caches shared by sessions */
  planeHome: string;
  /** completed turns before this one, oldest first */
  history: readonly ChatMessage[];
  content: string;
  /** aborted on cancel or stop_session */
  signal: AbortSignal;
  /** the session's working directory on the plane's disk (where the agent's commands run) */
  workDir: string;
  /** the session's own directory on the plane's disk, out of the agent's reach (checkpoints live here) */
  sessionDir: string;
  emit(event: EmittedEvent): void;
  /** trace context of the turn's span: model and tool spans go under it */
  trace: Context;
  reportUsage(usage: Omit<UsageReport, 'sessionId' | 'runId'>): void;
}

export interface TurnResult {
  status: FinalRunStatus;
  /** the assistant's full answer, kept in the session's history */
  answer: string;
  /** true when the turn continued from a checkpoint instead of starting over */
  resumedFromCheckpoint?: boolean;
}

/** One way of executing a turn: our SemiGraph, or OpenClaw through its bridge. */
export interface RuntimeAdapter {
  readonly type: RuntimeType;
  runTurn(ctx: TurnContext): Promise<TurnResult>;
}
