import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupHome,
  clientText,
  follow,
  openEventsWith,
  post,
  postStream,
  readSse,
  sendAndStream,
  slowText,
  startPlatform,
  strictlyIncreasing,
  textOf,
  waitRun,
  type Platform,
  type SseFrame,
} from './harness.js';

/**
 * Embedded mode, control plane killed mid-run and started again on the same home and port: nothing
 * acknowledged is lost, the interrupted run resumes on a fresh plane (never hangs `running`),
 * event ids keep increasing, and the session carries on.
 */

describe('control plane restart (embedded mode)', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  it('SIGKILL mid-stream: the run resumes on a fresh plane after the restart, queued work survives, ids never repeat', async () => {
    const { token, sessionId } = await p.chat();
    const stream = await follow((s) => postStream(p, token, sessionId, '/slow 60 20', {}, s));
    const runId = (await stream.next((f) => f.event === 'run')).data.runId!;
    await stream.next((f) => f.event === 'text' && f.data.text === 'tok10 ');
    // acknowledged before the crash: must run after it
    const queued = await post(p, token, sessionId, '/echo queued before the crash');
    expect(queued.status).toBe(202);

    const port = new URL(p.url).port;
    await p.stop('SIGKILL');
    const seen = await stream.finished; // the connection dies with the process
    expect(seen.some((f) => f.event === 'done')).toBe(false);
    const lastSeenId = seen.at(-1)!.id!;

    p = await startPlatform({ home: p.home, port: Number(port) });
    expect(new URL(p.url).port).toBe(port);

    // Not left `running`: re-delivered as attempt 2 (its plane died with the control plane) and completed.
    const run = await waitRun(p, token, runId);
    expect(run).toMatchObject({ id: runId, status: 'completed', attempt: 2 });

    // The replay after the restart: the events kept from before, then step_restart and the rest, ids increasing.
    const replay = await readSse(await openEventsWith(p, token, sessionId, { header: 0 }), {
      until: (f) => f.event === 'done' && f.data.runId === runId,
    });
    expect(strictlyIncreasing(replay)).toBe(true);
    for (const f of replay.filter((r) => r.id! <= lastSeenId)) expect(seen.find((s) => s.id === f.id)).toEqual(f);
    const restart = replay.find((f) => f.event === 'step_restart')!;
    expect(restart.data).toMatchObject({ runId, stepId: '0:plan', textLength: 0, attempt: 2 });
    expect(restart.id).toBeGreaterThan(lastSeenId); // ids are never reused after a crash
    // The client that was cut off resumes from the last id it saw: exactly the rest, nothing twice.
    const rest = await readSse(await openEventsWith(p, token, sessionId, { header: lastSeenId }), {
      until: (f) => f.event === 'done' && f.data.runId === runId,
    });
    expect(rest).toEqual(replay.filter((f) => f.id! > lastSeenId));
    // What a client shows, applying step_restart (keep textLength chars, then append): the answer, once.
    expect(clientText(replay)).toBe(slowText(60));
    expect(clientText([...seen, ...rest])).toBe(slowText(60));

    // The message queued behind it runs now, and a new one after it.
    expect(await waitRun(p, token, queued.body.runId)).toMatchObject({ status: 'completed' });
    const after = await sendAndStream(p, token, sessionId, '/echo after the restart');
    expect(after.at(-1)!.data.status).toBe('completed');
    expect(textOf(after)).toBe('after the restart');

    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => [m.role, m.content])).toEqual([
      ['user', '/slow 60 20'],
      ['assistant', slowText(60)],
      ['user', '/echo queued before the crash'],
      ['assistant', 'queued before the crash'],
      ['user', '/echo after the restart'],
      ['assistant', 'after the restart'],
    ]);
  });

  it('SIGTERM with a client still following the session: a prompt, clean stop, and the client resumes afterwards', async () => {
    const { token, sessionId } = await p.chat();
    const first = await sendAndStream(p, token, sessionId, '/echo before');
    const watcher = await follow((s) => openEventsWith(p, token, sessionId, { header: first.at(-1)!.id! }, s));
    const t0 = Date.now();
    p = await p.restart('SIGTERM');
    expect(Date.now() - t0).toBeLessThan(15_000);
    await watcher.finished; // the server ended the stream
    const resumed = await follow((s) => openEventsWith(p, token, sessionId, { header: first.at(-1)!.id! }, s), {
      stopWhen: (f) => f.event === 'done',
    });
    const sent = await post(p, token, sessionId, '/echo after');
    const frames = await resumed.finished;
    expect(frames[0]!.data).toMatchObject({ type: 'run', runId: sent.body.runId });
    expect(frames[0]!.id).toBeGreaterThan(first.at(-1)!.id!);
    expect(textOf(frames)).toBe('after');
  });
});
