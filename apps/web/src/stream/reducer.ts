import type { ErrorCode, FinalRunStatus, SseEvent } from '@semibot/protocol';

/**
 * Folds a session's SSE events into per-run views: the answer text, the process steps (plan, tool,
 * skill and MCP calls), usage, errors and the final status. Pure, so every rule of the stream
 * contract (dedupe by id, step_restart truncation, resync) is unit-tested without a browser.
 */
export type StepKind = 'plan' | 'tool' | 'skill' | 'mcp' | 'restart';

export interface ProcessStep {
  /** stepId / callId: stable across the call and its result */
  key: string;
  kind: StepKind;
  title: string;
  status: 'running' | 'done' | 'failed';
  server?: string;
  args?: unknown;
  result?: unknown;
}

export type RunPhase = 'running' | FinalRunStatus;

export interface RunError {
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
}

export interface RunView {
  runId: string;
  messageId: string | null;
  text: string;
  steps: ProcessStep[];
  phase: RunPhase;
  /**
   * True once the run's own `run` event was seen, so `text` holds the whole answer. A run picked up
   * mid-way (after a resync, or whose start was pruned) only has a tail; the view shows the stored
   * answer for it instead.
   */
  complete: boolean;
  error: RunError | null;
  usage: { model: string; tokensIn: number; tokensOut: number; latencyMs: number } | null;
  attempt: number;
}

export interface StreamState {
  /** the highest event id applied; anything at or below it is a replay and is ignored */
  lastEventId: number;
  runs: Record<string, RunView>;
  /** bumped on each `resync`: the view reloads the stored messages when it changes */
  resyncs: number;
}

export const initialStreamState: StreamState = { lastEventId: 0, runs: {}, resyncs: 0 };

const newRun = (runId: string, complete: boolean): RunView => ({
  runId,
  messageId: null,
  text: '',
  steps: [],
  phase: 'running',
  complete,
  error: null,
  usage: null,
  attempt: 1,
});

function withRun(state: StreamState, runId: string, fn: (run: RunView) => RunView): StreamState {
  const current = state.runs[runId] ?? newRun(runId, false);
  return { ...state, runs: { ...state.runs, [runId]: fn(current) } };
}

const upsertStep = (steps: ProcessStep[], step: ProcessStep): ProcessStep[] => {
  const i = steps.findIndex((s) => s.key === step.key && s.kind === step.kind);
  if (i < 0) return [...steps, step];
  const next = steps.slice();
  next[i] = { ...steps[i]!, ...step };
  return next;
};

function settleCall(steps: ProcessStep[], kind: StepKind, callId: string, result: unknown, isError: boolean): ProcessStep[] {
  const status = isError ? 'failed' : 'done';
  const i = steps.findIndex((s) => s.key === callId && s.kind === kind);
  // a result whose call we never saw (joined mid-run) still deserves a line
  if (i < 0) return [...steps, { key: callId, kind, title: callId, status, result }];
  const next = steps.slice();
  next[i] = { ...steps[i]!, status, result };
  return next;
}

/** Applies one event. `id` is the SSE id (null for unsequenced events such as `resync`). */
export function applyEvent(state: StreamState, id: number | null, event: SseEvent): StreamState {
  if (id !== null) {
    if (id <= state.lastEventId) return state;
    state = { ...state, lastEventId: id };
  }
  switch (event.type) {
    case 'run':
      // a `run` event starts the run's stream: anything held for it before was a fragment
      return { ...state, runs: { ...state.runs, [event.runId]: { ...newRun(event.runId, true), messageId: event.messageId } } };
    case 'text':
      return withRun(state, event.runId, (r) => ({ ...r, text: r.text + event.text }));
    case 'step_restart':
      return withRun(state, event.runId, (r) => ({
        ...r,
        text: r.text.slice(0, event.textLength),
        attempt: event.attempt,
        steps: [...r.steps, { key: `restart:${event.attempt}`, kind: 'restart', title: `Resumed from checkpoint (attempt ${event.attempt})`, status: 'done' }],
      }));
    case 'plan_step':
      return withRun(state, event.runId, (r) => ({
        ...r,
        steps: upsertStep(r.steps, { key: event.stepId, kind: 'plan', title: event.title, status: event.status }),
      }));
    case 'tool_call':
    case 'skill_call':
      return withRun(state, event.runId, (r) => ({
        ...r,
        steps: upsertStep(r.steps, { key: event.callId, kind: event.type === 'tool_call' ? 'tool' : 'skill', title: event.name, args: event.args, status: 'running' }),
      }));
    case 'mcp_call':
      return withRun(state, event.runId, (r) => ({
        ...r,
        steps: upsertStep(r.steps, { key: event.callId, kind: 'mcp', title: event.name, server: event.server, args: event.args, status: 'running' }),
      }));
    case 'tool_result':
    case 'skill_result':
    case 'mcp_result': {
      const kind: StepKind = event.type === 'tool_result' ? 'tool' : event.type === 'skill_result' ? 'skill' : 'mcp';
      return withRun(state, event.runId, (r) => ({ ...r, steps: settleCall(r.steps, kind, event.callId, event.result, event.isError) }));
    }
    case 'usage':
      return withRun(state, event.runId, (r) => ({
        ...r,
        // a run may call the model several times (tool loops): its usage is the sum
        usage: {
          model: event.model,
          tokensIn: (r.usage?.tokensIn ?? 0) + event.tokensIn,
          tokensOut: (r.usage?.tokensOut ?? 0) + event.tokensOut,
          latencyMs: (r.usage?.latencyMs ?? 0) + event.latencyMs,
        },
      }));
    case 'error':
      return withRun(state, event.runId, (r) => ({
        ...r,
        error: { code: event.code, message: event.message, ...(event.retryAfterMs !== undefined ? { retryAfterMs: event.retryAfterMs } : {}) },
      }));
    case 'done':
      return withRun(state, event.runId, (r) => ({
        ...r,
        phase: event.status,
        steps: r.steps.map((s) => (s.status === 'running' ? { ...s, status: event.status === 'completed' ? 'done' : 'failed' } : s)),
      }));
    case 'resync': {
      // Events were lost: a run still going has a gap in its text, so it is no longer whole.
      const runs: Record<string, RunView> = {};
      for (const [k, r] of Object.entries(state.runs)) runs[k] = r.phase === 'running' ? { ...r, complete: false } : r;
      return { ...state, runs, resyncs: state.resyncs + 1 };
    }
    default:
      return assertNever(event);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected event ${JSON.stringify(x)}`);
}
