import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupHome,
  follow,
  openEventsWith,
  post,
  postStream,
  readSse,
  sendAndStream,
  startPlatform,
  textOf,
  waitFor,
  type Platform,
  type SseFrame,
} from './harness.js';

/**
 * Invariant 1, second half: when the events after a client's Last-Event-ID are no longer retained,
 * it gets an explicit `resync` event first — never a silent gap. Retention here: at least 20 events
 * per session (pruned by whole flushes of the log).
 */
const RETENTION = 20;
const view = (frames: SseFrame[]) => frames.map((f) => ({ id: f.id, event: f.event, data: f.data }));

describe('event retention and resync', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform({ env: { SEMIBOT_EVENT_RETENTION: String(RETENTION) } });
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  it('a too-old Last-Event-ID gets `resync` first, then live events; a retained one replays exactly', async () => {
    const { token, sessionId } = await p.chat();
    const run = await sendAndStream(p, token, sessionId, '/slow 30 1');
    expect(run.at(-1)!.data.status).toBe('completed');
    expect(run.length).toBeGreaterThan(RETENTION + 5); // run + 30 text + usage + done
    const firstId = run[0]!.id!;
    const lastId = run.at(-1)!.id!;

    // Retention is applied once the run has ended; until then the old ids are still replayable.
    const resync = await waitFor(async () => {
      const frames = await readSse(await openEventsWith(p, token, sessionId, { header: firstId }), { until: () => true, timeoutMs: 3_000 });
      return frames[0]?.event === 'resync' ? frames[0] : null;
    });
    expect(resync.id).toBeNull(); // not part of the log: a client must not resume from it
    expect(resync.data).toMatchObject({ type: 'resync', runId: null });
    expect(typeof resync.data.reason).toBe('string');
    // At least the newest RETENTION events are kept (the log is pruned by whole flushes), and
    // oldestRetainedId says exactly where what is kept begins.
    const oldest = resync.data.oldestRetainedId as number;
    const kept = run.filter((f) => f.id! >= oldest);
    expect(kept.length).toBeGreaterThanOrEqual(RETENTION);
    expect(kept.length).toBeLessThan(run.length);

    // One id before the oldest retained one: no resync, exactly the retained events, in order.
    const replay = await readSse(await openEventsWith(p, token, sessionId, { header: oldest - 1 }), {
      until: (f) => f.event === 'done',
    });
    expect(view(replay)).toEqual(view(kept));

    // Two before (and by query string as well): gone, so resync.
    for (const resume of [{ header: oldest - 2 }, { query: oldest - 2 }, { query: firstId }]) {
      const frames = await readSse(await openEventsWith(p, token, sessionId, resume), { until: () => true, timeoutMs: 3_000 });
      expect(frames.map((f) => f.event)).toEqual(['resync']);
    }

    // After `resync` the stream follows live: the next run arrives complete, nothing old is replayed.
    const stream = await follow((s) => openEventsWith(p, token, sessionId, { header: firstId }, s), {
      stopWhen: (f) => f.event === 'done',
    });
    await stream.next((f) => f.event === 'resync');
    const next = await post(p, token, sessionId, '/echo after the resync');
    const frames = await stream.finished;
    expect(frames[0]!.event).toBe('resync');
    const live = frames.slice(1);
    expect(live[0]!.data).toMatchObject({ type: 'run', runId: next.body.runId });
    expect(live.every((f) => f.data.runId === next.body.runId && f.id! > lastId)).toBe(true);
    expect(live.at(-1)!.data).toMatchObject({ type: 'done', status: 'completed' });
    expect(textOf(live)).toBe('after the resync');

    // The history is the source of truth after a resync, and it is complete.
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => m.content)).toEqual([
      '/slow 30 1',
      textOf(run),
      '/echo after the resync',
      'after the resync',
    ]);
  });

  it('a duplicate post asking for SSE, whose run is no longer retained, gets `resync` and an ended response', async () => {
    const { token, sessionId } = await p.chat();
    const whole = await sendAndStream(p, token, sessionId, '/echo pruned entirely', { idempotencyKey: 'gone' });
    const cut = await sendAndStream(p, token, sessionId, '/slow 30 1', { idempotencyKey: 'cut' }); // > RETENTION events
    expect(whole.at(-1)!.data.status).toBe('completed');
    expect(cut.length).toBeGreaterThan(RETENTION);
    // retention is applied after each run: wait until it has cut into the second run
    await waitFor(async () => {
      const f = await readSse(await openEventsWith(p, token, sessionId, { header: cut[0]!.id! }), { until: () => true, timeoutMs: 3_000 });
      return f[0]?.event === 'resync';
    });
    // a restart empties every in-memory copy: what is left is what retention kept
    p = await p.restart();
    const kept = await sendAndStream(p, token, sessionId, '/echo kept', { idempotencyKey: 'kept' });

    for (const [key, content, runId] of [
      ['gone', '/echo pruned entirely', whole[0]!.data.runId],
      ['cut', '/slow 30 1', cut[0]!.data.runId],
    ] as const) {
      const res = await postStream(p, token, sessionId, content, { idempotencyKey: key });
      expect(res.status).toBe(200);
      const frames = await readSse(res, { timeoutMs: 5_000 }); // the response must end by itself
      expect(frames.map((f) => f.event)).toEqual(['resync']);
      expect(frames[0]!.data).toMatchObject({ type: 'resync', runId });
      expect(frames[0]!.id).toBeNull();
    }
    // a retained run is still replayed whole
    const dup = await readSse(await postStream(p, token, sessionId, '/echo kept', { idempotencyKey: 'kept' }), { timeoutMs: 5_000 });
    expect(view(dup)).toEqual(view(kept));
    // nothing was run twice
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data).toHaveLength(6);
  });
});
