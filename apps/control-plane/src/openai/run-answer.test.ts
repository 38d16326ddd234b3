import { describe, expect, it } from 'vitest';
import { RunAnswer } from './run-answer.js';

const runId = 'r';
describe('RunAnswer', () => {
  it('hands out appended text once, and nothing of text a resumed step streams again', () => {
    const a = new RunAnswer();
    a.add({ type: 'text', runId, text: 'Hello ' });
    a.add({ type: 'text', runId, text: 'wor' });
    expect(a.take()).toBe('Hello wor');
    expect(a.take()).toBe('');
    // the plane died; the step resumes from a checkpoint holding "Hello " and streams again
    a.add({ type: 'step_restart', runId, stepId: '1:respond', textLength: 6, attempt: 2 });
    a.add({ type: 'text', runId, text: 'wor' });
    expect(a.take()).toBe('');
    a.add({ type: 'text', runId, text: 'ld!' });
    expect(a.take()).toBe('ld!');
    expect(a.answer).toBe('Hello world!');
  });
  it('sums usage and keeps the error and the final status', () => {
    const a = new RunAnswer();
    a.add({ type: 'usage', runId, model: 'm', tokensIn: 10, tokensOut: 2, latencyMs: 5 } as never);
    a.add({ type: 'usage', runId, model: 'm', tokensIn: 12, tokensOut: 3, latencyMs: 5 } as never);
    a.add({ type: 'error', runId, code: 'LLM_ERROR', message: 'down' });
    a.add({ type: 'done', runId, status: 'failed' });
    expect([a.tokensIn, a.tokensOut, a.error, a.status]).toEqual([22, 5, { code: 'LLM_ERROR', message: 'down' }, 'failed']);
  });
});
