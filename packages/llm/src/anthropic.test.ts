import { describe, expect, it } from 'vitest';
import { createAnthropicProvider, toWireMessages } from './anthropic.js';
import { LlmError } from './errors.js';
import type { LlmChunk } from './types.js';

// No Anthropic-compatible mock server exists, so these tests hand the SDK a fake fetch that
// replays recorded-shape SSE events; the request it receives is checked too.

const sse = (events: object[]): string =>
  events.map((e) => `event: ${(e as { type: string }).type}\ndata: ${JSON.stringify(e)}\n\n`).join('');

const START = {
  type: 'message_start',
  message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-test', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } },
};
const text = (index: number, t: string) => ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } });
const end = (reason: string, out: number) => [
  { type: 'message_delta', delta: { stop_reason: reason, stop_sequence: null }, usage: { output_tokens: out } },
  { type: 'message_stop' },
];

function fakeFetch(respond: (body: Record<string, unknown>, signal: AbortSignal | undefined) => Response) {
  const requests: Record<string, unknown>[] = [];
  const fn = (async (_url: unknown, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
    requests.push(body);
    return respond(body, init?.signal ?? undefined);
  }) as typeof fetch;
  return { fn, requests };
}

const streamResponse = (body: string) => new Response(body, { headers: { 'content-type': 'text/event-stream' } });

async function collect(p: ReturnType<typeof createAnthropicProvider>, signal?: AbortSignal): Promise<LlmChunk[]> {
  const out: LlmChunk[] = [];
  for await (const c of p.stream({ messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi' }], ...(signal ? { signal } : {}) })) {
    out.push(c);
  }
  return out;
}

describe('Anthropic provider', () => {
  it('streams text, tool calls, usage and a normalised finish reason', async () => {
    const f = fakeFetch(() =>
      streamResponse(
        sse([
          START,
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          text(0, 'Let me '),
          text(0, 'look.'),
          { type: 'content_block_stop', index: 0 },
          { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'search', input: {} } },
          { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } },
          { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"cats"}' } },
          { type: 'content_block_stop', index: 1 },
          { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_2', name: 'clock', input: {} } },
          { type: 'content_block_stop', index: 2 },
          ...end('tool_use', 30),
        ]),
      ),
    );
    const llm = createAnthropicProvider({ apiKey: 'k', model: 'claude-test', maxRetries: 0, fetch: f.fn });
    const cs = await collect(llm);
    expect(cs).toEqual([
      { type: 'text', text: 'Let me ' },
      { type: 'text', text: 'look.' },
      {
        type: 'tool_calls',
        calls: [
          { id: 'toolu_1', name: 'search', arguments: '{"q":"cats"}' },
          { id: 'toolu_2', name: 'clock', arguments: '{}' },
        ],
      },
      { type: 'usage', model: 'claude-test', tokensIn: 12, tokensOut: 30, latencyMs: expect.any(Number), firstTokenMs: expect.any(Number) },
      { type: 'finish', reason: 'tool_calls' },
    ]);
    expect(f.requests[0]).toMatchObject({ model: 'claude-test', system: 'sys', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('maps HTTP errors to LlmError', async () => {
    const f = fakeFetch(
      () =>
        new Response(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), {
          status: 529,
          headers: { 'content-type': 'application/json' },
        }),
    );
    const err = await collect(createAnthropicProvider({ apiKey: 'k', model: 'm', maxRetries: 0, fetch: f.fn })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err).toMatchObject({ status: 529, retryable: true });
    expect((err as Error).message).toContain('Overloaded');
  });

  it('ends quietly when aborted mid-stream', async () => {
    const f = fakeFetch((_body, signal) => {
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(ctl) {
          ctl.enqueue(enc.encode(sse([START, text(0, 'partial')])));
          signal?.addEventListener('abort', () => ctl.error(new DOMException('aborted', 'AbortError')));
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    const ac = new AbortController();
    const seen: LlmChunk[] = [];
    const llm = createAnthropicProvider({ apiKey: 'k', model: 'm', maxRetries: 0, fetch: f.fn });
    for await (const c of llm.stream({ messages: [{ role: 'user', content: 'hi' }], signal: ac.signal })) {
      seen.push(c);
      ac.abort();
    }
    expect(seen).toEqual([{ type: 'text', text: 'partial' }]);
  });
});

describe('toWireMessages (Anthropic)', () => {
  it('lifts system prompts and groups parallel tool results into one user turn', () => {
    const wire = toWireMessages([
      { role: 'system', content: 'a' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'x', arguments: '{"n":1}' }, { id: 't2', name: 'y', arguments: 'oops' }] },
      { role: 'tool', toolCallId: 't1', content: 'r1' },
      { role: 'tool', toolCallId: 't2', content: 'r2' },
      { role: 'user', content: 'next' },
    ]);
    expect(wire.system).toBe('a');
    expect(wire.messages).toEqual([
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 't1', name: 'x', input: { n: 1 } },
          { type: 'tool_use', id: 't2', name: 'y', input: { _raw: 'oops' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: 'r1' },
          { type: 'tool_result', tool_use_id: 't2', content: 'r2' },
        ],
      },
      { role: 'user', content: 'next' },
    ]);
  });
});
