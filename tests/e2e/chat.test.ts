import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, sendAndStream, startPlatform, textOf, type Platform } from './harness.js';

describe('one chat turn through every layer', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  it('streams a reply from run to done and stores both messages', async () => {
    const { token, sessionId } = await p.chat();
    const frames = await sendAndStream(p, token, sessionId, '/echo the quick brown fox');
    expect(frames[0]!.event).toBe('run');
    expect(frames.at(-1)!.event).toBe('done');
    expect(frames.at(-1)!.data.status).toBe('completed');
    expect(textOf(frames)).toBe('the quick brown fox');
    const ids = frames.map((f) => f.id!);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    const runId = frames[0]!.data.runId;
    expect(frames.every((f) => f.data.runId === runId)).toBe(true);

    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => [m.role, m.content])).toEqual([
      ['user', '/echo the quick brown fox'],
      ['assistant', 'the quick brown fox'],
    ]);
    const run = await p.api('GET', `/runs/${runId}`, { token });
    expect(run.body).toMatchObject({ id: runId, sessionId, status: 'completed' });
    expect(run.body.usage.tokensOut).toBeGreaterThan(0);
  });
});
