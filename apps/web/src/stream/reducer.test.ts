import { describe, expect, it } from 'vitest';
import type { SseEvent } from '@semibot/protocol';
import { applyEvent, initialStreamState, type StreamState } from './reducer.js';

const R = 'run-1';
const fold = (events: [number | null, SseEvent][], from: StreamState = initialStreamState) =>
  events.reduce((s, [id, e]) => applyEvent(s, id, e), from);
const text = (t: string, runId = R): SseEvent => ({ type: 'text', runId, text: t });

describe('stream reducer', () => {
  it('streams a run from `run` to `done`, token by token', () => {
    const s = fold([
      [1, { type: 'run', runId: R, messageId: 'm1' }],
      [2, text('Hello ')],
      [3, text('world')],
      [4, { type: 'usage', runId: R, model: 'mock-1', tokensIn: 5, tokensOut: 2, latencyMs: 30 }],
      [5, { type: 'done', runId: R, status: 'completed' }],
    ]);
    expect(s.lastEventId).toBe(5);
    expect(s.runs[R]).toMatchObject({ text: 'Hello world', phase: 'completed', complete: true, messageId: 'm1', usage: { tokensIn: 5, tokensOut: 2 } });
  });

  it('ignores events at or below the last applied id (a replay after reconnect never duplicates text)', () => {
    const once = fold([[1, { type: 'run', runId: R, messageId: 'm1' }], [2, text('a')], [3, text('b')]]);
    const replayed = fold([[2, text('a')], [3, text('b')], [4, text('c')]], once);
    expect(replayed.runs[R]!.text).toBe('abc');
    expect(applyEvent(replayed, 4, text('c'))).toBe(replayed);
  });

  it('step_restart keeps the first textLength characters and appends what follows', () => {
    const s = fold([
      [1, { type: 'run', runId: R, messageId: 'm1' }],
      [2, text('tok1 tok2 ')],
      [3, text('tok3 (lost) ')],
      [4, { type: 'step_restart', runId: R, stepId: 's2', textLength: 10, attempt: 2 }],
      [5, text('tok3 tok4')],
    ]);
    expect(s.runs[R]!.text).toBe('tok1 tok2 tok3 tok4');
    expect(s.runs[R]!.attempt).toBe(2);
    expect(s.runs[R]!.steps.map((x) => x.kind)).toEqual(['restart']);
  });

  it('pairs tool, skill and MCP calls with their results and upserts plan steps', () => {
    const s = fold([
      [1, { type: 'run', runId: R, messageId: 'm1' }],
      [2, { type: 'plan_step', runId: R, stepId: 'p1', title: 'Think', status: 'running' }],
      [3, { type: 'tool_call', runId: R, callId: 'c1', name: 'run_command', args: { command: 'ls' } }],
      [4, { type: 'mcp_call', runId: R, callId: 'c2', name: 'echo', server: 'everything', args: {} }],
      [5, { type: 'tool_result', runId: R, callId: 'c1', result: 'a.txt', isError: false }],
      [6, { type: 'mcp_result', runId: R, callId: 'c2', result: 'boom', isError: true }],
      [7, { type: 'skill_result', runId: R, callId: 'c3', result: 'orphan', isError: false }],
      [8, { type: 'plan_step', runId: R, stepId: 'p1', title: 'Think', status: 'done' }],
    ]);
    expect(s.runs[R]!.steps).toEqual([
      { key: 'p1', kind: 'plan', title: 'Think', status: 'done' },
      { key: 'c1', kind: 'tool', title: 'run_command', args: { command: 'ls' }, status: 'done', result: 'a.txt' },
      { key: 'c2', kind: 'mcp', title: 'echo', server: 'everything', args: {}, status: 'failed', result: 'boom' },
      { key: 'c3', kind: 'skill', title: 'c3', status: 'done', result: 'orphan' },
    ]);
  });

  it('an error and a failed done keep the code; calls still open are marked failed', () => {
    const s = fold([
      [1, { type: 'run', runId: R, messageId: 'm1' }],
      [2, { type: 'tool_call', runId: R, callId: 'c1', name: 'slow', args: {} }],
      [3, { type: 'error', runId: R, code: 'VM_UNAVAILABLE', message: 'no plane', retryAfterMs: 3000 }],
      [4, { type: 'done', runId: R, status: 'failed' }],
    ]);
    expect(s.runs[R]).toMatchObject({ phase: 'failed', error: { code: 'VM_UNAVAILABLE', message: 'no plane', retryAfterMs: 3000 } });
    expect(s.runs[R]!.steps[0]!.status).toBe('failed');
  });

  it('a run joined mid-way is not complete; resync marks running runs incomplete and bumps the counter', () => {
    const mid = fold([[7, text('tail', 'run-2')]]);
    expect(mid.runs['run-2']).toMatchObject({ text: 'tail', complete: false, phase: 'running' });

    const before = fold([
      [1, { type: 'run', runId: R, messageId: 'm1' }],
      [2, { type: 'done', runId: R, status: 'completed' }],
      [3, { type: 'run', runId: 'run-2', messageId: 'm2' }],
      [4, text('par', 'run-2')],
    ]);
    const after = applyEvent(before, null, { type: 'resync', runId: null, reason: 'pruned', oldestRetainedId: 90 });
    expect(after.resyncs).toBe(1);
    expect(after.lastEventId).toBe(4); // unsequenced: the id is not moved
    expect(after.runs[R]!.complete).toBe(true);
    expect(after.runs['run-2']!.complete).toBe(false);
  });

  it('sums usage over several model calls of one run', () => {
    const s = fold([
      [1, { type: 'usage', runId: R, model: 'm', tokensIn: 1, tokensOut: 2, latencyMs: 10 }],
      [2, { type: 'usage', runId: R, model: 'm', tokensIn: 3, tokensOut: 4, latencyMs: 5 }],
    ]);
    expect(s.runs[R]!.usage).toEqual({ model: 'm', tokensIn: 4, tokensOut: 6, latencyMs: 15 });
  });
});
