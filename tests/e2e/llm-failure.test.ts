import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, sendAndStream, startPlatform, textOf, waitRun, type Platform } from './harness.js';

/** The model failing is a clear `error` (LLM_ERROR) then `done` failed — and the session carries on. */
describe('the model failing', () => {
  let p: Platform;
  let token: string;
  let agentId: string;
  const newSession = async () => (await p.api('POST', '/sessions', { token, body: { agentId } })).body.id as string;

  beforeAll(async () => {
    p = await startPlatform();
    ({ token, agentId } = await p.chat());
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  const expectLlmError = (frames: Awaited<ReturnType<typeof sendAndStream>>) => {
    const runId = frames[0]!.data.runId!;
    const errors = frames.filter((f) => f.event === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.data).toMatchObject({ type: 'error', runId, code: 'LLM_ERROR' });
    expect(frames.at(-1)!.data).toMatchObject({ type: 'done', runId, status: 'failed' });
    // the error comes before done, and nothing after done
    expect(frames.indexOf(errors[0]!)).toBeLessThan(frames.length - 1);
    return { runId, message: errors[0]!.data.message as string };
  };

  it('/fail 500 → error LLM_ERROR, done failed; the next message in the session works', async () => {
    const sessionId = await newSession();
    const frames = await sendAndStream(p, token, sessionId, '/fail 500');
    expect(frames[0]!.event).toBe('run');
    const { runId, message } = expectLlmError(frames);
    expect(message).toMatch(/500/);
    expect(textOf(frames)).toBe('');
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'failed', error: { code: 'LLM_ERROR' } });

    const next = await sendAndStream(p, token, sessionId, '/echo back on my feet');
    expect(next.at(-1)!.data.status).toBe('completed');
    expect(textOf(next)).toBe('back on my feet');
    expect(next[0]!.id).toBeGreaterThan(frames.at(-1)!.id!);

    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => [m.role, m.content])).toEqual([
      ['user', '/fail 500'],
      ['user', '/echo back on my feet'],
      ['assistant', 'back on my feet'],
    ]);
  });

  it('a client error from the model (/fail 400) fails the run the same way', async () => {
    const sessionId = await newSession();
    const { runId, message } = expectLlmError(await sendAndStream(p, token, sessionId, '/fail 400'));
    expect(message).toMatch(/400/);
    expect((await waitRun(p, token, runId)).error.code).toBe('LLM_ERROR');
  });

  it('a stream that breaks midway (/fail_mid 5) → LLM_ERROR, done failed, the partial text kept', async () => {
    const sessionId = await newSession();
    const frames = await sendAndStream(p, token, sessionId, '/fail_mid 5');
    const { runId } = expectLlmError(frames);
    const partial = textOf(frames);
    expect(partial).toBe('tok1 tok2 tok3 tok4 tok5 ');
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'failed', error: { code: 'LLM_ERROR' } });
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => [m.role, m.content])).toEqual([
      ['user', '/fail_mid 5'],
      ['assistant', partial],
    ]);
    expect(textOf(await sendAndStream(p, token, sessionId, '/echo recovered'))).toBe('recovered');
  });

  it('a failing turn in one session does not disturb a turn streaming in another', async () => {
    const [s1, s2] = [await newSession(), await newSession()];
    const [slow, failing] = await Promise.all([
      sendAndStream(p, token, s1, '/slow 30 20'),
      sendAndStream(p, token, s2, '/fail 503'),
    ]);
    expect(slow.at(-1)!.data.status).toBe('completed');
    expect(textOf(slow)).toBe(Array.from({ length: 30 }, (_, i) => `tok${i + 1} `).join(''));
    expectLlmError(failing);
  });
});
