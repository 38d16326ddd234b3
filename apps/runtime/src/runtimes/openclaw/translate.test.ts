import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EmittedEvent } from '../../adapter.js';
import { toolIdentity, TranslatorV4, type ToolIdentity } from './translate.js';

/**
 * The v4 translator on frames recorded from a real OpenClaw 2026.9.6 gateway driven by the mock
 * model (fixtures/, one turn per file; the session snapshot each event carries and the prompt
 * reports of the final `res` were trimmed).
 */
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/v4-${name}.jsonl`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; event?: string; payload: Record<string, unknown> });

const ours: Record<string, ToolIdentity> = { echo: { kind: 'mcp', name: 'echo', server: 'everything' } };

function replay(name: string, attempt = 1) {
  const t = new TranslatorV4({ attempt, tool: (n) => toolIdentity(n, (x) => ours[x]) });
  const events: EmittedEvent[] = [];
  let end: ReturnType<TranslatorV4['finish']> | null = null;
  for (const f of fixture(name)) {
    if (f.type === 'event' && f.event === 'agent') events.push(...t.feed(f.payload));
    else if (f.type === 'res' && f.payload.status !== 'accepted') end = t.finish(f.payload, 'mock');
  }
  return { events, end: end!, answer: t.answer };
}

const text = (events: EmittedEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');

describe('TranslatorV4 on recorded OpenClaw frames', () => {
  it('streams assistant deltas as text and takes usage from the final res', () => {
    const { events, end, answer } = replay('text');
    expect(text(events)).toBe('tok1 tok2 tok3');
    expect(answer).toBe('tok1 tok2 tok3');
    expect(end.status).toBe('completed');
    expect(end.usage).toMatchObject({ model: 'mock', tokensOut: expect.any(Number), tokensIn: expect.any(Number) });
    expect(end.usage!.tokensOut).toBeGreaterThan(0);
  });

  it("maps OpenClaw's own tool to tool_call / tool_result with the result's text", () => {
    const { events, end } = replay('builtin-tool');
    const call = events.find((e) => e.type === 'tool_call');
    const result = events.find((e) => e.type === 'tool_result');
    expect(call).toMatchObject({ name: 'read', args: { path: 'x.txt' } });
    expect(result).toMatchObject({ callId: (call as { callId: string }).callId, result: 'file content 42\n', isError: false });
    expect(end.status).toBe('completed');
  });

  it('names a proxied tool as ours (mcp_call with its server), without the semibot__ prefix', () => {
    const { events } = replay('proxied-tool');
    expect(events.find((e) => e.type === 'mcp_call')).toMatchObject({ name: 'echo', server: 'everything', args: { message: 'hi' } });
    expect(events.find((e) => e.type === 'mcp_result')).toMatchObject({ isError: false, result: expect.stringContaining('hi') });
    expect(events.some((e) => e.type === 'tool_call')).toBe(false);
  });

  it('a rewritten item becomes step_restart + its new text, and the answer follows what the client keeps', () => {
    const { events, answer } = replay('builtin-tool');
    const restart = events.findIndex((e) => e.type === 'step_restart');
    expect(restart).toBeGreaterThan(0);
    // the client's rule: keep textLength characters, then append what follows
    let shown = '';
    for (const e of events) {
      if (e.type === 'text') shown += e.text;
      if (e.type === 'step_restart') shown = shown.slice(0, e.textLength);
    }
    expect(shown).toBe(answer);
  });

  it('a provider failure ends the turn failed with LLM_ERROR and the model error message', () => {
    const { end } = replay('provider-error');
    expect(end.status).toBe('failed');
    expect(end.error).toEqual({ code: 'LLM_ERROR', message: expect.stringContaining('LLM request failed') });
  });

  it('a replayed run (a known idempotency key: no events) still yields its cached answer', () => {
    const frames = fixture('text');
    const t = new TranslatorV4({ attempt: 2, tool: (n) => toolIdentity(n, () => undefined) });
    const end = t.finish(frames.at(-1)!.payload, 'mock');
    expect(end.replayed).toEqual([{ type: 'text', text: 'tok1 tok2 tok3' }]);
    expect(t.answer).toBe('tok1 tok2 tok3');
  });
});

describe('toolIdentity', () => {
  it("keeps OpenClaw's own names and a semibot__ name that is not one of ours", () => {
    expect(toolIdentity('exec', () => undefined)).toEqual({ kind: 'tool', name: 'exec' });
    expect(toolIdentity('semibot__nope', () => undefined)).toEqual({ kind: 'tool', name: 'semibot__nope' });
    expect(toolIdentity('semibot__use_skill', (n) => (n === 'use_skill' ? { kind: 'skill', name: n } : undefined))).toEqual({ kind: 'skill', name: 'use_skill' });
  });
});
