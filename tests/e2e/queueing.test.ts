import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupHome,
  follow,
  openEventsWith,
  post,
  slowText,
  startPlatform,
  strictlyIncreasing,
  textOf,
  waitRun,
  type Platform,
  type SseFrame,
} from './harness.js';

/** Invariant 2: at most one run executes per session; further messages queue and run in order. */

describe('messages queue per session', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  it('three messages posted back to back run one after another, in order', async () => {
    const { token, sessionId } = await p.chat();
    const witness = await follow((s) => openEventsWith(p, token, sessionId, {}, s));
    const contents = ['/slow 10 30', '/echo second', '/echo third'];
    const posted = [];
    for (const c of contents) posted.push(await post(p, token, sessionId, c));
    expect(posted.map((r) => r.status)).toEqual([202, 202, 202]);
    const [a, b, c] = posted.map((r) => r.body.runId);
    expect(new Set([a, b, c]).size).toBe(3);

    // While the first runs, the others wait.
    await waitRun(p, token, a!, ['running']);
    for (const id of [b, c]) expect((await p.api('GET', `/runs/${id}`, { token })).body.status).toBe('queued');

    await witness.next((f) => f.event === 'done' && f.data.runId === c);
    witness.close();
    const frames = witness.frames;
    expect(strictlyIncreasing(frames)).toBe(true);

    // The stream is three contiguous blocks, run → … → done, in posting order: never interleaved.
    const blocks: SseFrame[][] = [];
    for (const f of frames) {
      if (f.event === 'run') blocks.push([]);
      blocks.at(-1)!.push(f);
    }
    expect(blocks.map((bl) => bl[0]!.data.runId)).toEqual([a, b, c]);
    for (const bl of blocks) {
      expect(bl.every((f) => f.data.runId === bl[0]!.data.runId)).toBe(true);
      expect(bl.filter((f) => f.event === 'done')).toHaveLength(1);
      expect(bl.at(-1)!.data).toMatchObject({ type: 'done', status: 'completed' });
    }
    expect(blocks.map(textOf)).toEqual([slowText(10), 'second', 'third']);

    // Each run started only after the previous one had finished.
    const runs = await Promise.all([a, b, c].map((id) => waitRun(p, token, id!)));
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].finishedAt));
    }

    // The history reads as a conversation: each question followed by its answer.
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => [m.role, m.content, m.runId])).toEqual([
      ['user', '/slow 10 30', a],
      ['assistant', slowText(10), a],
      ['user', '/echo second', b],
      ['assistant', 'second', b],
      ['user', '/echo third', c],
      ['assistant', 'third', c],
    ]);
  });

  it('sessions of one user do not queue behind each other', async () => {
    const { token, agentId, sessionId: s1 } = await p.chat();
    const s2 = (await p.api('POST', '/sessions', { token, body: { agentId } })).body.id as string;
    const slow = await post(p, token, s1, '/slow 100 20');
    await waitRun(p, token, slow.body.runId, ['running']);
    // a turn in another session finishes while the slow one is still going
    const quick = await post(p, token, s2, '/echo meanwhile');
    const done = await waitRun(p, token, quick.body.runId);
    expect(done.status).toBe('completed');
    expect((await p.api('GET', `/runs/${slow.body.runId}`, { token })).body.status).toBe('running');
    await p.api('POST', `/sessions/${s1}/cancel`, { token });
    expect((await waitRun(p, token, slow.body.runId)).status).toBe('cancelled');
  });
});
