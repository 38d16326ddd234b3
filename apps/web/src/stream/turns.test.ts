import { describe, expect, it } from 'vitest';
import type { Message } from '../lib/types.js';
import { applyEvent, initialStreamState } from './reducer.js';
import { buildTurns, isBusy, type PendingSend } from './turns.js';

const msg = (id: string, role: Message['role'], content: string, runId: string | null): Message => ({ id, role, content, runId, createdAt: '2025-01-01T00:00:00Z' });
const pending = (p: Partial<PendingSend>): PendingSend => ({ localId: 'l1', content: 'hi', runId: null, messageId: null, error: null, ...p });

describe('buildTurns', () => {
  it('pairs stored user messages with their answers; unknown when neither stream nor store knows', () => {
    const turns = buildTurns([msg('u1', 'user', 'q1', 'r1'), msg('a1', 'assistant', 'ans1', 'r1'), msg('u2', 'user', 'q2', 'r2')], [], initialStreamState);
    expect(turns.map((t) => [t.userContent, t.answer, t.status])).toEqual([
      ['q1', 'ans1', 'completed'],
      ['q2', '', 'unknown'],
    ]);
  });

  it('a streamed run shows its live text; a run joined mid-way shows the stored answer once there is one', () => {
    let s = applyEvent(initialStreamState, 1, { type: 'run', runId: 'r1', messageId: 'u1' });
    s = applyEvent(s, 2, { type: 'text', runId: 'r1', text: 'live' });
    s = applyEvent(s, 9, { type: 'text', runId: 'r2', text: 'tail' });
    const history = [msg('u1', 'user', 'q1', 'r1'), msg('u2', 'user', 'q2', 'r2')];
    expect(buildTurns(history, [], s).map((t) => [t.answer, t.status])).toEqual([
      ['live', 'running'],
      ['tail', 'running'],
    ]);
    s = applyEvent(s, 10, { type: 'done', runId: 'r2', status: 'completed' });
    const stored = [...history, msg('a2', 'assistant', 'whole answer tail', 'r2')];
    expect(buildTurns(stored, [], s)[1]!.answer).toBe('whole answer tail');
  });

  it('pending sends: sending, queued, failed with its code; dropped once the history has them', () => {
    const p = [
      pending({ localId: 'a', content: 'first' }),
      pending({ localId: 'b', content: 'second', runId: 'r5', messageId: 'm5' }),
      pending({ localId: 'c', content: 'third', error: { code: 'VM_UNAVAILABLE', message: 'later' } }),
    ];
    const turns = buildTurns([], p, initialStreamState);
    expect(turns.map((t) => [t.userContent, t.status, t.error?.code ?? null])).toEqual([
      ['first', 'sending', null],
      ['second', 'queued', null],
      ['third', 'failed', 'VM_UNAVAILABLE'],
    ]);
    expect(isBusy(turns)).toBe(true);
    const stored = buildTurns([msg('m5', 'user', 'second', 'r5')], [p[1]!], initialStreamState);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.key).toBe('m5');
  });

  it('while a finished run is replayed on open, its stored answer is shown, not the growing replay', () => {
    let s = applyEvent(initialStreamState, 1, { type: 'run', runId: 'r1', messageId: 'u1' });
    s = applyEvent(s, 2, { type: 'text', runId: 'r1', text: 'par' });
    const history = [msg('u1', 'user', 'q', 'r1'), msg('a1', 'assistant', 'partial answer', 'r1')];
    expect(buildTurns(history, [], s)[0]!.answer).toBe('partial answer');
    s = applyEvent(s, 3, { type: 'text', runId: 'r1', text: 'tial answer' });
    s = applyEvent(s, 4, { type: 'done', runId: 'r1', status: 'completed' });
    expect(buildTurns(history, [], s)[0]).toMatchObject({ answer: 'partial answer', status: 'completed' });
  });

  it('a finished run is not busy', () => {
    let s = applyEvent(initialStreamState, 1, { type: 'run', runId: 'r1', messageId: 'u1' });
    s = applyEvent(s, 2, { type: 'done', runId: 'r1', status: 'cancelled' });
    const turns = buildTurns([msg('u1', 'user', 'q', 'r1')], [], s);
    expect(turns[0]!.status).toBe('cancelled');
    expect(isBusy(turns)).toBe(false);
  });
});
