import { describe, expect, it } from 'vitest';
import type { SseEvent } from '@semibot/protocol';
import { defaultBackoff, SessionStream, type StreamStatus } from './session-stream.js';

/** A scripted server: each connect gets the next script; `cut` ends that response mid-stream. */
interface Script {
  status?: number;
  frames: string[];
  /** true: the body errors after the frames (a dropped connection); false: it stays open */
  cut?: boolean;
}

const frame = (id: number, e: SseEvent) => `id: ${id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
const text = (id: number, t: string) => frame(id, { type: 'text', runId: 'r', text: t });

function fakeServer(scripts: Script[]) {
  const requests: Record<string, string>[] = [];
  const fetchImpl = (async (_url: string, init: RequestInit) => {
    requests.push({ ...(init.headers as Record<string, string>) });
    const script = scripts.shift() ?? { frames: [] };
    const signal = init.signal!;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const enc = new TextEncoder();
        // split frames across chunks to prove the parser handles partial frames
        for (const f of script.frames) {
          const mid = Math.floor(f.length / 2);
          controller.enqueue(enc.encode(f.slice(0, mid)));
          controller.enqueue(enc.encode(f.slice(mid)));
        }
        // error() discards chunks still queued, so the cut comes once the reader has taken them
        if (script.cut) setTimeout(() => controller.error(new Error('connection reset')), 10);
        if ((script.status ?? 200) !== 200) controller.close();
        signal.addEventListener('abort', () => {
          try {
            controller.error(new Error('aborted'));
          } catch {
            /* already closed */
          }
        });
      },
    });
    return new Response(body, { status: script.status ?? 200, headers: { 'content-type': 'text/event-stream' } });
  }) as unknown as typeof fetch;
  return { fetchImpl, requests };
}

async function until(pred: () => boolean, ms = 2000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function collect(scripts: Script[], extra: { idleTimeoutMs?: number } = {}) {
  const server = fakeServer(scripts);
  const seen: [number | null, string][] = [];
  const statuses: StreamStatus[] = [];
  const stream = new SessionStream({
    url: 'http://test/api/v1/sessions/s/events',
    headers: () => ({ authorization: 'Bearer t' }),
    onEvent: (id, e) => seen.push([id, e.type === 'text' ? e.text : e.type]),
    onStatus: (s) => statuses.push(s),
    fetch: server.fetchImpl,
    backoff: () => 1,
    ...extra,
  }).start();
  return { stream, seen, statuses, requests: server.requests };
}

describe('SessionStream', () => {
  it('reconnects after a drop with Last-Event-ID and drops replayed ids', async () => {
    const { stream, seen, requests } = collect([
      { frames: [text(1, 'a'), text(2, 'b')], cut: true },
      // a server may replay from an older id; the client must not deliver 2 twice
      { frames: [text(2, 'b'), text(3, 'c'), ': hb\n\n', text(4, 'd')] },
    ]);
    await until(() => seen.length === 4);
    expect(seen).toEqual([[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']]);
    expect(requests[0]!['last-event-id']).toBeUndefined();
    expect(requests[1]).toMatchObject({ 'last-event-id': '2', authorization: 'Bearer t', accept: 'text/event-stream' });
    expect(stream.lastEventId).toBe(4);
    stream.close();
  });

  it('delivers unsequenced events (resync) without moving the resume id', async () => {
    const resync: SseEvent = { type: 'resync', runId: null, reason: 'pruned', oldestRetainedId: 50 };
    const { stream, seen, requests } = collect([
      { frames: [text(7, 'x')], cut: true },
      { frames: [`event: resync\ndata: ${JSON.stringify(resync)}\n\n`, text(60, 'y')] },
    ]);
    await until(() => seen.length === 3);
    expect(seen).toEqual([[7, 'x'], [null, 'resync'], [60, 'y']]);
    expect(requests[1]!['last-event-id']).toBe('7');
    stream.close();
  });

  it('starts from a given id and gives up on 401/404 instead of retrying forever', async () => {
    const server = fakeServer([{ status: 404, frames: [] }]);
    const statuses: StreamStatus[] = [];
    new SessionStream({ url: 'u', headers: () => ({}), onEvent: () => {}, onStatus: (s) => statuses.push(s), fetch: server.fetchImpl, lastEventId: 12, backoff: () => 1 }).start();
    await until(() => statuses.some((s) => s.state === 'failed'));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!['last-event-id']).toBe('12');
    expect(statuses.at(-1)).toMatchObject({ state: 'failed', error: expect.stringContaining('404') });
  });

  it('replaces a connection that goes silent (no data, no heartbeat)', async () => {
    const { stream, seen, requests, statuses } = collect([{ frames: [text(1, 'a')] }, { frames: [text(2, 'b')] }], { idleTimeoutMs: 30 });
    await until(() => seen.length === 2);
    expect(requests[1]!['last-event-id']).toBe('1');
    expect(statuses.map((s) => s.state)).toContain('reconnecting');
    stream.close();
  });

  it('retries network errors and 5xx; close() stops everything', async () => {
    const { stream, seen, requests } = collect([{ status: 503, frames: [] }, { frames: [text(1, 'ok')] }]);
    await until(() => seen.length === 1);
    expect(requests).toHaveLength(2);
    stream.close();
    await new Promise((r) => setTimeout(r, 30));
    expect(requests).toHaveLength(2);
  });

  it('backs off exponentially with jitter, capped at 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((a) => defaultBackoff(a, () => 0.5))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(defaultBackoff(0, () => 0)).toBe(200);
    expect(defaultBackoff(0, () => 1)).toBe(300);
  });
});
