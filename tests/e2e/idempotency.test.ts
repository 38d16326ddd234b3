import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, post, postStream, readSse, startPlatform, textOf, waitRun, type Platform } from './harness.js';

/** Invariant 4: the same idempotencyKey in the same session yields the same run, however often and concurrently sent. */
describe('idempotent message posts', () => {
  let p: Platform;
  let token: string;
  let agentId: string;
  const newSession = async () => (await p.api('POST', '/sessions', { token, body: { agentId } })).body.id as string;
  const history = async (sessionId: string) =>
    (await p.api('GET', `/sessions/${sessionId}/messages`, { token })).body.data.map((m: any) => [m.role, m.content]);

  beforeAll(async () => {
    p = await startPlatform();
    ({ token, agentId } = await p.chat());
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  it('20 concurrent POSTs with one key → one run, one message id, one stored user message', async () => {
    const sessionId = await newSession();
    const idempotencyKey = randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => post(p, token, sessionId, '/echo once', { idempotencyKey })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(202));
    expect(new Set(results.map((r) => r.body.runId)).size).toBe(1);
    expect(new Set(results.map((r) => r.body.messageId)).size).toBe(1);
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    const { runId, messageId } = results[0]!.body;

    const run = await waitRun(p, token, runId);
    expect(run).toMatchObject({ id: runId, sessionId, messageId, status: 'completed' });
    expect(await history(sessionId)).toEqual([
      ['user', '/echo once'],
      ['assistant', 'once'],
    ]);

    // Sent again later, still the same run, and nothing new is stored or executed.
    const again = await post(p, token, sessionId, '/echo once', { idempotencyKey });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ runId, messageId, duplicate: true });
    expect(await history(sessionId)).toHaveLength(2);
  });

  it('a duplicate asking for SSE gets that run replayed from `run` to `done`', async () => {
    const sessionId = await newSession();
    const idempotencyKey = randomUUID();
    const first = await readSse(await postStream(p, token, sessionId, '/echo streamed once', { idempotencyKey }), {
      until: (f) => f.event === 'done',
    });
    expect(first.at(-1)!.data.status).toBe('completed');
    const dup = await readSse(await postStream(p, token, sessionId, '/echo streamed once', { idempotencyKey }), {
      until: (f) => f.event === 'done',
    });
    expect(dup.map((f) => [f.id, f.event, f.data])).toEqual(first.map((f) => [f.id, f.event, f.data]));
    expect(await history(sessionId)).toEqual([
      ['user', '/echo streamed once'],
      ['assistant', 'streamed once'],
    ]);
  });

  it('concurrent SSE duplicates of a run still in progress all stream the same run to `done`', async () => {
    const sessionId = await newSession();
    const idempotencyKey = randomUUID();
    const streams = await Promise.all(
      Array.from({ length: 5 }, async () =>
        readSse(await postStream(p, token, sessionId, '/slow 15 20', { idempotencyKey }), { until: (f) => f.event === 'done' }),
      ),
    );
    const runIds = new Set(streams.map((s) => s[0]!.data.runId));
    expect(runIds.size).toBe(1);
    for (const s of streams) {
      expect(s[0]!.event).toBe('run');
      expect(s.at(-1)!.data).toMatchObject({ type: 'done', status: 'completed' });
      expect(s.map((f) => f.id)).toEqual(streams[0]!.map((f) => f.id));
      expect(textOf(s)).toBe(Array.from({ length: 15 }, (_, i) => `tok${i + 1} `).join(''));
    }
    expect(await history(sessionId)).toHaveLength(2);
  });

  it('keys are scoped to their session, and a post without a key is never deduplicated', async () => {
    const s1 = await newSession();
    const s2 = await newSession();
    const idempotencyKey = randomUUID();
    const a = await post(p, token, s1, '/echo a', { idempotencyKey });
    const b = await post(p, token, s2, '/echo b', { idempotencyKey });
    expect(b.body.duplicate).toBe(false);
    expect(b.body.runId).not.toBe(a.body.runId);
    const c = await post(p, token, s1, '/echo c');
    const d = await post(p, token, s1, '/echo c');
    expect(d.body.runId).not.toBe(c.body.runId);
    for (const r of [a, b, c, d]) expect((await waitRun(p, token, r.body.runId)).status).toBe('completed');
    expect((await history(s1)).map((m: string[]) => m[1])).toEqual(['/echo a', 'a', '/echo c', 'c', '/echo c', 'c']);
  });
});
