import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupHome,
  follow,
  openEventsWith,
  post,
  postStream,
  readSse,
  slowText,
  startPlatform,
  strictlyIncreasing,
  textOf,
  waitRun,
  type Platform,
  type SseFrame,
} from './harness.js';

/**
 * Invariant 1: a client that reconnects with Last-Event-ID (header or ?lastEventId=) gets exactly the
 * events after that id — none twice, none missing — whether the run is still streaming or long done.
 */
/** `until` for readSse: true on the n-th text frame. */
const afterTexts = (n: number) => {
  let seen = 0;
  return (f: SseFrame) => f.event === 'text' && ++seen === n;
};
const isDone = (f: SseFrame) => f.event === 'done';
/** What a frame says, without transport details: used to compare two reads of the same events. */
const view = (frames: SseFrame[]) => frames.map((f) => ({ id: f.id, event: f.event, data: f.data }));

describe('resuming a session stream', () => {
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

  it('GET /events: disconnect mid-run, resume with the Last-Event-ID header → the rest, exactly once', async () => {
    const sessionId = await newSession();
    // A second subscriber that stays connected sees the uninterrupted stream.
    const witness = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { stopWhen: isDone });
    const { status, body } = await post(p, token, sessionId, '/slow 40 25');
    expect(status).toBe(202);

    const part1 = await readSse(await openEventsWith(p, token, sessionId), { until: afterTexts(5) });
    expect(part1[0]!.event).toBe('run');
    expect(part1.filter((f) => f.event === 'text')).toHaveLength(5);
    // still streaming: the reconnect below really hands over from replay to live
    expect((await p.api('GET', `/runs/${body.runId}`, { token })).body.status).toBe('running');

    const lastSeen = part1.at(-1)!.id!;
    const part2 = await readSse(await openEventsWith(p, token, sessionId, { header: lastSeen }), { until: isDone });
    expect(part2[0]!.id).toBeGreaterThan(lastSeen);
    expect(part2.at(-1)!.data).toMatchObject({ type: 'done', status: 'completed', runId: body.runId });

    const full = await witness.finished;
    expect(full.at(-1)!.event).toBe('done');
    const resumed = [...part1, ...part2];
    expect(strictlyIncreasing(resumed)).toBe(true);
    expect(view(resumed)).toEqual(view(full));
    expect(textOf(resumed)).toBe(slowText(40));

    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => [m.role, m.content])).toEqual([
      ['user', '/slow 40 25'],
      ['assistant', textOf(resumed)],
    ]);
  });

  it('POST stream: disconnect mid-run, resume with ?lastEventId= → the rest; then replay after done', async () => {
    const sessionId = await newSession();
    const part1 = await readSse(await postStream(p, token, sessionId, '/slow 40 25'), { until: afterTexts(7) });
    expect(part1[0]!.event).toBe('run');
    const runId = part1[0]!.data.runId!;
    expect((await p.api('GET', `/runs/${runId}`, { token })).body.status).toBe('running');

    const lastSeen = part1.at(-1)!.id!;
    const part2 = await readSse(await openEventsWith(p, token, sessionId, { query: lastSeen }), { until: isDone });
    const resumed = [...part1, ...part2];
    expect(strictlyIncreasing(resumed)).toBe(true);
    expect(resumed.every((f) => f.data.runId === runId)).toBe(true);
    expect(resumed.at(-1)!.data.status).toBe('completed');

    // The whole run replayed from the start after it ended is exactly what the two reads saw.
    await waitRun(p, token, runId);
    const full = await readSse(await openEventsWith(p, token, sessionId, { header: 0 }), { until: isDone });
    expect(view(resumed)).toEqual(view(full));
    expect(textOf(full)).toBe(slowText(40));
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.at(-1)).toMatchObject({ role: 'assistant', runId, content: slowText(40) });

    // Resuming after `done` from an id in the middle replays the rest of that run, by header and by query.
    const mid = full[Math.floor(full.length / 2)]!.id!;
    const expected = view(full.filter((f) => f.id! > mid));
    for (const resume of [{ header: mid }, { query: mid }]) {
      const rest = await readSse(await openEventsWith(p, token, sessionId, resume), { until: isDone });
      expect(view(rest)).toEqual(expected);
    }
    // From the last id there is nothing to replay: the stream stays open and quiet until the next run.
    const tail = await follow((s) => openEventsWith(p, token, sessionId, { header: full.at(-1)!.id! }, s), { stopWhen: isDone });
    const next = await post(p, token, sessionId, '/echo one more');
    const more = await tail.finished;
    expect(more[0]!.data).toMatchObject({ type: 'run', runId: next.body.runId });
    expect(more[0]!.id).toBeGreaterThan(full.at(-1)!.id!);
    expect(textOf(more)).toBe('one more');
  });

  it('a resumed stream that was cut twice still sees every event once (header, then query)', async () => {
    const sessionId = await newSession();
    const witness = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { stopWhen: isDone });
    await post(p, token, sessionId, '/slow 40 25');
    const a = await readSse(await openEventsWith(p, token, sessionId), { until: afterTexts(3) });
    const b = await readSse(await openEventsWith(p, token, sessionId, { header: a.at(-1)!.id! }), { until: afterTexts(10) });
    const c = await readSse(await openEventsWith(p, token, sessionId, { query: b.at(-1)!.id! }), { until: isDone });
    expect(view([...a, ...b, ...c])).toEqual(view(await witness.finished));
  });

  it('resuming from an id older than the in-memory window, mid-run, replays from the database then goes live', async () => {
    const sessionId = await newSession();
    const witness = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { stopWhen: isDone, timeoutMs: 90_000 });
    const { body } = await post(p, token, sessionId, '/slow 2500 1');
    const part1 = await readSse(await openEventsWith(p, token, sessionId), { until: afterTexts(10) });
    // let well over a thousand events pass, but come back before the run ends
    await witness.next((f) => f.event === 'text' && f.data.text === 'tok1500 ', 60_000);
    expect((await p.api('GET', `/runs/${body.runId}`, { token })).body.status).toBe('running');
    const part2 = await readSse(await openEventsWith(p, token, sessionId, { header: part1.at(-1)!.id! }), {
      until: isDone,
      timeoutMs: 90_000,
    });
    const full = await witness.finished;
    expect(full.at(-1)!.data).toMatchObject({ type: 'done', runId: body.runId, status: 'completed' });
    const resumed = [...part1, ...part2];
    expect(resumed.length).toBe(full.length);
    expect(view(resumed)).toEqual(view(full));
    expect(textOf(resumed)).toBe(slowText(2500));
  });

  it('an idle stream carries heartbeat comments (every SSE_HEARTBEAT_MS, 1 s here)', async () => {
    const sessionId = await newSession();
    const ac = new AbortController();
    const res = await openEventsWith(p, token, sessionId, {}, ac.signal);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const t0 = Date.now();
    try {
      while ((text.match(/^:.*$/gm) ?? []).length < 3 && Date.now() - t0 < 10_000) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } finally {
      ac.abort();
    }
    // comments only: no events on an idle session
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith(':'))).toEqual([]);
    expect((text.match(/^:.*$/gm) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
