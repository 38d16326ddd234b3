import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupHome,
  follow,
  post,
  postStream,
  slowText,
  startPlatform,
  textOf,
  waitRun,
  type Platform,
} from './harness.js';

/** POST /sessions/:id/cancel ends the running run with `done` status `cancelled`, keeps what was said, and the queue moves on. */
const isDone = (f: { event: string }) => f.event === 'done';

describe('cancelling a run', () => {
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

  it('cancel with nothing running → 409 NOT_RUNNING', async () => {
    const sessionId = await newSession();
    const r = await p.api('POST', `/sessions/${sessionId}/cancel`, { token });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 409, code: 'NOT_RUNNING' });
  });

  it('a long run cancelled mid-stream ends `cancelled`, keeps its partial answer, and the queued message runs next', async () => {
    const sessionId = await newSession();
    const stream = await follow((s) => postStream(p, token, sessionId, '/slow 200 20', {}, s), { stopWhen: isDone });
    const runId = (await stream.next((f) => f.event === 'run')).data.runId!;
    await stream.next((f) => f.event === 'text' && f.data.text === 'tok5 ');
    const queued = await post(p, token, sessionId, '/echo after the cancel');
    expect(queued.status).toBe(202);
    expect((await p.api('GET', `/runs/${queued.body.runId}`, { token })).body.status).toBe('queued');

    const cancel = await p.api('POST', `/sessions/${sessionId}/cancel`, { token });
    expect(cancel.status).toBe(202);
    expect(cancel.body.runId).toBe(runId);

    const frames = await stream.finished;
    expect(frames.at(-1)!.data).toMatchObject({ type: 'done', runId, status: 'cancelled' });
    expect(frames.filter(isDone)).toHaveLength(1);
    expect(frames.some((f) => f.event === 'error')).toBe(false);
    const partial = textOf(frames);
    // cut short: a proper prefix of the full answer, at least what we waited for
    expect(partial.startsWith(slowText(5))).toBe(true);
    expect(slowText(200).startsWith(partial)).toBe(true);
    expect(partial.length).toBeLessThan(slowText(200).length);

    const run = await waitRun(p, token, runId);
    expect(run.status).toBe('cancelled');
    expect(run.finishedAt).toBeTruthy();

    // the queued message still runs, to completion
    const next = await waitRun(p, token, queued.body.runId);
    expect(next.status).toBe('completed');
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => [m.role, m.content, m.runId])).toEqual([
      ['user', '/slow 200 20', runId],
      ['assistant', partial, runId],
      ['user', '/echo after the cancel', queued.body.runId],
      ['assistant', 'after the cancel', queued.body.runId],
    ]);

    // nothing is running any more
    const again = await p.api('POST', `/sessions/${sessionId}/cancel`, { token });
    expect({ status: again.status, code: again.body.error?.code }).toEqual({ status: 409, code: 'NOT_RUNNING' });
  });

  it('a cancel right as a run starts (its plane still booting) ends it `cancelled` too', async () => {
    // a new user has no execution plane yet: the run waits for one to start
    const fresh = await p.chat();
    const stream = await follow((s) => postStream(p, fresh.token, fresh.sessionId, '/slow 200 20', {}, s), { stopWhen: isDone });
    const runId = (await stream.next((f) => f.event === 'run')).data.runId!;
    const cancel = await p.api('POST', `/sessions/${fresh.sessionId}/cancel`, { token: fresh.token });
    expect(cancel.status).toBe(202);
    const frames = await stream.finished;
    expect(frames.at(-1)!.data).toMatchObject({ type: 'done', runId, status: 'cancelled' });
    expect((await waitRun(p, fresh.token, runId)).status).toBe('cancelled');
    // the session is usable right away
    const after = await post(p, fresh.token, fresh.sessionId, '/echo fine');
    expect((await waitRun(p, fresh.token, after.body.runId)).status).toBe('completed');
  });

  it('the cancelled run is visible as such on the session stream and in replay', async () => {
    const sessionId = await newSession();
    const sent = await post(p, token, sessionId, '/slow 100 20');
    await waitRun(p, token, sent.body.runId, ['running']);
    const live = await follow((s) => fetch(`${p.url}/api/v1/sessions/${sessionId}/events`, { headers: { authorization: `Bearer ${token}` }, signal: s }), {
      stopWhen: isDone,
    });
    await live.next((f) => f.event === 'text');
    expect((await p.api('POST', `/sessions/${sessionId}/cancel`, { token })).status).toBe(202);
    const frames = await live.finished;
    expect(frames.at(-1)!.data).toMatchObject({ type: 'done', runId: sent.body.runId, status: 'cancelled' });
    const stored = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(stored.body.data.at(-1)).toMatchObject({ role: 'assistant', content: textOf(frames) });
  });
});
