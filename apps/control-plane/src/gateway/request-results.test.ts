import { describe, expect, it } from 'vitest';
import { RequestResults } from './request-results.js';

describe('RequestResults', () => {
  it('answers a resume with stored outcomes, skips running requests and reports unknown ones lost', () => {
    const r = new RequestResults();
    r.begin('p1', 'a');
    r.begin('p1', 'b');
    r.begin('p1', 'c');
    r.finish('p1', 'a', { ok: true, result: { x: 1 } });
    r.finish('p1', 'b', { ok: false, error: { code: 'NOT_FOUND', message: 'no' } });
    expect(r.resume('p1', ['a', 'b', 'c', 'zzz'])).toEqual([
      { requestId: 'a', status: 'completed', result: { x: 1 } },
      { requestId: 'b', status: 'failed', error: { code: 'NOT_FOUND', message: 'no' } },
      { requestId: 'zzz', status: 'lost' },
    ]);
    expect(r.resume('p2', ['a'])).toEqual([{ requestId: 'a', status: 'lost' }]);
  });

  it('keeps a bounded number of results per plane, forgetting the oldest', () => {
    const r = new RequestResults();
    for (let i = 0; i < 1001; i++) r.finish('p', `r${i}`, { ok: true, result: i });
    expect(r.resume('p', ['r0'])[0]!.status).toBe('lost');
    expect(r.resume('p', ['r1000'])[0]!.status).toBe('completed');
  });
});
