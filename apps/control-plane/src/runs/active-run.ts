import type { ErrorCode, FinalRunStatus } from '@semibot/protocol';
import type { Span } from '@semibot/telemetry';
import type { PlaneConnection } from '../gateway/plane-connection.js';
import type { Lease, Run, RunUsage } from '../store/runs.js';

/** A run this control plane is driving, with what it has relayed so far. */
export interface ActiveRun {
  run: Run;
  /** the connection of the plane executing the current attempt; null while there is none */
  conn: PlaneConnection | null;
  /** set while the plane's socket is gone and we wait for that same plane to reconnect */
  detached: { instanceId: string; timer: NodeJS.Timeout } | null;
  /** highest event number of the current attempt relayed so far */
  lastSeq: number;
  text: string[];
  usage: RunUsage | null;
  cancelRequested: boolean;
  cancelTimer: NodeJS.Timeout | null;
  finalizing: boolean;
  /** the run's trace span (a no-op unless tracing is on) */
  span?: Span;
  errorFromPlane?: { code: ErrorCode; message: string };
  /** how the current attempt executes (runtime or direct), once delivery decided it */
  path?: import('./execution.js').ExecutionPath;
  /** aborts a direct run's LLM stream (cancel) */
  directAbort?: AbortController;
  /** false for a run this replica finishes without driving it (a cancel nobody else can act on): no attempt fence */
  adopted?: boolean;
}

export function newActiveRun(run: Run, over: Partial<ActiveRun> = {}): ActiveRun {
  return { run, conn: null, detached: null, lastSeq: 0, text: [], usage: null, cancelRequested: false, cancelTimer: null, finalizing: false, ...over };
}

export type RunError = { code: ErrorCode; message: string; retryAfterMs?: number | undefined };

/** What recovery needs from the engine that owns the runs. */
export interface RunHost {
  readonly lease: Lease;
  activeRuns(): Iterable<ActiveRun>;
  /** a new attempt begins here: older attempts' events are refused from now on */
  raiseFence(run: Run): Promise<void>;
  adopt(a: ActiveRun): void;
  deliver(a: ActiveRun): Promise<void>;
  finish(a: ActiveRun, status: FinalRunStatus, error?: RunError): Promise<void>;
  kick(sessionId: string): void;
}
