import { describe, expect, it } from 'vitest';
import { ControlToPlane, ErrorCodes, PlaneFrame, PlaneToControl, SemibotError, SseEvent, parseFrame, parsePlaneFrame } from './index.js';

describe('wire schemas', () => {
  it('accepts every plane frame the daemon sends', () => {
    const frames = [
      { type: 'auth', token: 't', ticket: 'k', protocolVersion: 1 },
      { type: 'sse_event', sessionId: 's', runId: 'r', attempt: 1, seq: 1, event: { type: 'text', runId: 'r', text: 'hi' } },
      { type: 'request', requestId: 'q1', method: 'get_history', params: { sessionId: 's' } },
      { type: 'fire_and_forget', method: 'usage_report', params: {} },
      { type: 'heartbeat', activeSessions: 0, activeRuns: 0 },
      { type: 'resume', pendingRequestIds: ['q1'] },
    ];
    for (const f of frames) expect(parseFrame(PlaneToControl, JSON.stringify(f)).ok).toBe(true);
  });

  it('refuses malformed frames with a reason instead of throwing', () => {
    for (const raw of ['not json', '{}', '{"type":"nope"}', '{"type":"heartbeat","activeSessions":-1,"activeRuns":0}',
      '{"type":"sse_event","sessionId":"s","runId":"r","attempt":1,"seq":1,"event":{"type":"run","runId":"r","messageId":"m"}}']) {
      const r = parseFrame(PlaneToControl, raw);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
    }
  });

  it('parses plane frames on the fast path exactly as the schema does', () => {
    const text = (seq: number, extra: Record<string, unknown> = {}) =>
      ({ type: 'sse_event', sessionId: 's', runId: 'r', attempt: 1, seq, event: { type: 'text', runId: 'r', text: `t${seq}` }, ...extra });
    const frames: unknown[] = [
      text(1),
      { type: 'batch', messages: [text(1), text(2)] },
      // mixed: the other messages by their schema, one by one
      { type: 'batch', messages: [text(1), { type: 'heartbeat', activeSessions: 0, activeRuns: 0 }] },
      { type: 'batch', messages: [text(1), { type: 'heartbeat', activeSessions: 0, activeRuns: 0, junk: 1 }, text(2, { junk: 2 })] },
      { type: 'batch', messages: [{ ...text(3), event: { type: 'done', runId: 'r', status: 'completed' } }, text(4)] },
      { type: 'batch', messages: [text(1), { type: 'heartbeat', activeSessions: -1, activeRuns: 0 }] },
      { type: 'batch', messages: [text(1), { type: 'sse_event', sessionId: 's', runId: 'r', attempt: 1, seq: 2, event: { type: 'run', runId: 'r' } }] },
      { type: 'batch', messages: [text(1), { type: 'nonsense' }] },
      { type: 'batch', messages: Array.from({ length: 1001 }, (_, i) => text(i + 1)) },
      text(1, { junk: 1 }), // an unknown key: zod strips it
      { ...text(1), event: { type: 'text', runId: 'r', text: 't', junk: 1 } },
      // refused either way
      text(0),
      text(1.5),
      { ...text(1), sessionId: '' },
      { ...text(1), sessionId: 'x'.repeat(201) },
      { ...text(1), event: { type: 'text', runId: '', text: 't' } },
      { ...text(1), event: { type: 'text', runId: 'r', text: 7 } },
      { ...text(1), attempt: '1' },
      { type: 'batch', messages: [] },
      { type: 'batch', messages: [text(1), text(0)] },
      { type: 'batch', messages: [text(1)], extra: true },
      null,
      [],
      'text',
    ];
    for (const f of frames) {
      const raw = JSON.stringify(f);
      const slow = parseFrame(PlaneFrame, raw);
      const fast = parsePlaneFrame(raw);
      expect(fast.ok, raw).toBe(slow.ok);
      if (fast.ok && slow.ok) expect(fast.value, raw).toEqual(slow.value);
    }
    expect(parsePlaneFrame('{"type":"batch","messages":[').ok).toBe(false);
    // the mixed batches a busy plane sends are taken, other messages stripped as zod strips them
    const mixed = parsePlaneFrame(JSON.stringify(frames[2]));
    expect(mixed.ok && mixed.value).toEqual({ type: 'batch', messages: [text(1), { type: 'heartbeat', activeSessions: 0, activeRuns: 0 }] });
    expect(parsePlaneFrame(JSON.stringify(frames[4])).ok).toBe(true);
  });

  it('keeps `run` and `resync` for the control plane: a plane cannot forge them', () => {
    expect(SseEvent.safeParse({ type: 'resync', runId: null, reason: 'x', oldestRetainedId: 3 }).success).toBe(true);
    expect(PlaneToControl.safeParse({
      type: 'sse_event', sessionId: 's', runId: 'r', attempt: 1, seq: 1,
      event: { type: 'resync', runId: null, reason: 'x', oldestRetainedId: 3 },
    }).success).toBe(false);
  });

  it('parses control frames', () => {
    const init = { type: 'init', protocolVersion: 1, instanceId: 'i', userId: 'u', orgId: 'o', heartbeatIntervalMs: 10_000, llm: { baseUrl: 'b', apiKey: 'k', model: 'm' } };
    expect(ControlToPlane.parse(init)).toEqual(init);
    expect(ControlToPlane.safeParse({ type: 'user_message', sessionId: 's', runId: 'r', messageId: 'm', attempt: 0, content: 'x' }).success).toBe(false);
  });

  it('renders errors with stable codes', () => {
    const e = new SemibotError('VM_UNAVAILABLE', 'later', 503, { retryAfterMs: 1000 });
    expect(SemibotError.is(e)).toBe(true);
    expect(SemibotError.is(new Error('x'))).toBe(false);
    expect(e.toBody()).toEqual({ error: { code: 'VM_UNAVAILABLE', message: 'later', retryAfterMs: 1000 } });
    expect(new Set(ErrorCodes).size).toBe(ErrorCodes.length);
  });
});
