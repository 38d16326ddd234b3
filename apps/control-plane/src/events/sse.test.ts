import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../store/events.js';
import { frameOf } from './sse.js';

const text = (id: number, t: string): StoredEvent => ({ sessionId: 's', id, event: { type: 'text', runId: 'r', text: t } });

describe('frameOf', () => {
  it('frames each event by its own id and content, however events alternate (one cached slot)', () => {
    const a = text(1, 'a');
    const b = text(2, 'b');
    const frameA = 'id: 1\nevent: text\ndata: {"type":"text","runId":"r","text":"a"}\n\n';
    expect(frameOf(a)).toBe(frameA);
    expect(frameOf(a)).toBe(frameA);
    expect(frameOf(b)).toBe('id: 2\nevent: text\ndata: {"type":"text","runId":"r","text":"b"}\n\n');
    expect(frameOf(a)).toBe(frameA); // a replay of an older event after a newer one
  });

  it('serialises again an event whose JSON was released once stored', () => {
    const e = text(3, 'c');
    const first = frameOf(e);
    e.json = undefined;
    frameOf(text(4, 'd'));
    expect(frameOf(e)).toBe(first);
  });
});
