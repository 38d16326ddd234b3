import { startMockLlm, type MockLlm } from '@semibot/mock-llm';
import http from 'node:http';
import v8 from 'node:v8';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmError } from './errors.js';
import { createOpenAICompatibleProvider, type OpenAICompatibleConfig } from './openai.js';
import type { LlmChunk, LlmMessage, LlmProvider, LlmStreamRequest } from './types.js';

let mock: MockLlm;
let llm: LlmProvider;
beforeAll(async () => {
  mock = await startMockLlm();
  llm = provider();
});
afterAll(() => mock.close());

function provider(over: Partial<OpenAICompatibleConfig> = {}): LlmProvider {
  return createOpenAICompatibleProvider({ baseUrl: mock.url, apiKey: 'test-key', model: 'mock-1', maxRetries: 0, ...over });
}

/**
 * The provider's two ways of handing over text: yielded as `text` chunks, or pushed through
 * `onText` (the relay's way; no text chunk may then be yielded). `streamOf` puts pushed text back
 * where a yielded chunk would have been, so every test below holds for both.
 */
type Mode = 'yielded' | 'pushed';
let mode: Mode = 'yielded';

async function* streamOf(p: LlmProvider, req: LlmStreamRequest): AsyncGenerator<LlmChunk> {
  if (mode === 'yielded') return yield* p.stream(req);
  const texts: string[] = [];
  const onText = (text: string) => {
    texts.push(text);
    req.onText?.(text);
  };
  let failed: unknown = null;
  const rest: LlmChunk[] = [];
  try {
    for await (const c of p.stream({ ...req, onText })) {
      if (c.type === 'text') throw new Error('a text chunk was yielded although onText was given');
      rest.push(c);
    }
  } catch (err) {
    failed = err;
  }
  for (const text of texts) yield { type: 'text', text };
  yield* rest;
  if (failed) throw failed;
}

async function collect(
  messages: LlmMessage[] | string,
  p: LlmProvider = llm,
  signal?: AbortSignal,
): Promise<LlmChunk[]> {
  const msgs: LlmMessage[] = typeof messages === 'string' ? [{ role: 'user', content: messages }] : messages;
  const out: LlmChunk[] = [];
  for await (const c of streamOf(p, { messages: msgs, ...(signal ? { signal } : {}) })) out.push(c);
  return out;
}

const textOf = (cs: LlmChunk[]): string => cs.map((c) => (c.type === 'text' ? c.text : '')).join('');

async function failure(run: Promise<unknown>): Promise<LlmError> {
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LlmError);
  return err as LlmError;
}

describe.each<Mode>(['yielded', 'pushed'])('OpenAI-compatible provider against the mock server, text %s', (m) => {
  beforeAll(() => void (mode = m));
  it('streams text equal to the script, then usage, then finish', async () => {
    const cs = await collect('/echo Hello, streaming  world!\nBye.');
    expect(textOf(cs)).toBe('Hello, streaming  world!\nBye.');
    expect(cs.filter((c) => c.type === 'text').length).toBe(4);
    expect(cs.slice(-2).map((c) => c.type)).toEqual(['usage', 'finish']);
    expect(cs.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('reports the server usage and timings', async () => {
    const cs = await collect([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: '/slow 3 5' },
    ]);
    const usage = cs.find((c) => c.type === 'usage');
    // The mock counts prompt words (2 + 3) and emitted tokens (3).
    expect(usage).toMatchObject({ type: 'usage', model: 'mock-1', tokensIn: 5, tokensOut: 3 });
    if (usage?.type !== 'usage') throw new Error('no usage');
    expect(usage.firstTokenMs).not.toBeNull();
    expect(usage.firstTokenMs!).toBeGreaterThanOrEqual(4);
    expect(usage.latencyMs).toBeGreaterThanOrEqual(usage.firstTokenMs!);
  });

  it('assembles a streamed tool call and completes the round trip', async () => {
    const cs = await collect('/tool get_weather {"city":"Paris","unit":"celsius","days":[1,2,3]}');
    const calls = cs.find((c) => c.type === 'tool_calls');
    expect(calls).toEqual({
      type: 'tool_calls',
      calls: [{ id: expect.any(String), name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius","days":[1,2,3]}' }],
    });
    expect(cs.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
    expect(textOf(cs)).toBe('');

    const call = calls?.type === 'tool_calls' ? calls.calls[0]! : null;
    const follow = await collect([
      { role: 'user', content: '/tool get_weather {"city":"Paris"}' },
      { role: 'assistant', content: '', toolCalls: [call!] },
      { role: 'tool', toolCallId: call!.id, content: '21 degrees' },
    ]);
    expect(textOf(follow)).toBe('Tool result: 21 degrees');
  });

  it('keeps parallel tool calls apart by index', async () => {
    const cs = await collect('/tools search {"q":"a; b"} ; clock {}');
    const calls = cs.find((c) => c.type === 'tool_calls');
    expect(calls?.type === 'tool_calls' && calls.calls.map(({ name, arguments: a }) => [name, a])).toEqual([
      ['search', '{"q":"a; b"}'],
      ['clock', '{}'],
    ]);
    const ids = calls?.type === 'tool_calls' ? calls.calls.map((c) => c.id) : [];
    expect(new Set(ids).size).toBe(2);
  });

  it('maps HTTP errors to LlmError with status and retryability', async () => {
    const bad = await failure(collect('/fail 400'));
    expect(bad).toMatchObject({ code: 'LLM_ERROR', status: 400, retryable: false });
    expect(bad.message).toContain('scripted failure');

    const limited = await failure(collect('/fail 429'));
    expect(limited).toMatchObject({ status: 429, retryable: true });
  });

  it('retries retryable statuses before giving up', async () => {
    const before = mock.stats().requests;
    const err = await failure(collect('/fail 503', provider({ maxRetries: 1 })));
    expect(err).toMatchObject({ status: 503, retryable: true });
    expect(mock.stats().requests - before).toBe(2);
  });

  it('reports an unreachable server as a retryable LlmError', async () => {
    const other = await startMockLlm();
    const url = other.url;
    await other.close();
    const err = await failure(collect('hi', createOpenAICompatibleProvider({ baseUrl: url, apiKey: '', model: 'x', maxRetries: 0 })));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('cannot reach');
  });

  it('turns a stream that breaks midway into a retryable LlmError after the text so far', async () => {
    const seen: LlmChunk[] = [];
    const err = await failure(
      (async () => {
        for await (const c of streamOf(llm, { messages: [{ role: 'user', content: '/fail_mid 3' }] })) seen.push(c);
      })(),
    );
    expect(err.retryable).toBe(true);
    expect(textOf(seen)).toBe('tok1 tok2 tok3 ');
  });

  it('ends quietly on abort mid-stream and frees the server stream', async () => {
    const ac = new AbortController();
    const seen: LlmChunk[] = [];
    let texts = 0;
    // pushed text is seen before any chunk is yielded: the abort comes from onText then
    const onText = () => void (++texts === 3 && ac.abort());
    for await (const c of streamOf(llm, { messages: [{ role: 'user', content: '/slow 200 5' }], signal: ac.signal, ...(mode === 'pushed' ? { onText } : {}) })) {
      seen.push(c);
      if (seen.length === 3) ac.abort();
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.length).toBeLessThan(10);
    expect(seen.every((c) => c.type === 'text')).toBe(true); // no usage / finish after a cancel
    await waitFor(() => mock.stats().active === 0);
  });

  it('ends quietly on abort before the first token', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    expect(await collect('/hang', llm, ac.signal)).toEqual([]);
    const pre = new AbortController();
    pre.abort();
    expect(await collect('hi', llm, pre.signal)).toEqual([]);
  });

  // only where text is yielded: pushed text reaches onText while the iteration waits for the end
  if (m === 'yielded') it('aborts the request when the consumer stops iterating', async () => {
    for await (const c of llm.stream({ messages: [{ role: 'user', content: '/slow 200 5' }] })) {
      expect(c.type).toBe('text');
      break;
    }
    await waitFor(() => mock.stats().active === 0);
  });

  it('gives up on a stream that goes silent', async () => {
    const err = await failure(collect('/hang', provider({ timeoutMs: 150 })));
    expect(err).toMatchObject({ retryable: true });
    expect(err.message).toContain('no data');
  });

  it('handles many concurrent streams', async () => {
    const texts = await Promise.all(Array.from({ length: 100 }, (_, i) => collect(`/echo n${i} done`).then(textOf)));
    expect(texts).toEqual(Array.from({ length: 100 }, (_, i) => `n${i} done`));
  });
});

describe.each<Mode>(['yielded', 'pushed'])('OpenAI-compatible provider against servers that misbehave, text %s', (m) => {
  beforeAll(() => void (mode = m));
  /** A one-off server answering request n with replies[n]. */
  async function scripted(replies: ((res: http.ServerResponse) => void)[]) {
    let n = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => replies[Math.min(n++, replies.length - 1)]!(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/v1`, requests: () => n, close: () => new Promise((r) => server.close(r)) };
  }
  const sse = (res: http.ServerResponse, events: string[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of events) res.write(`data: ${e}\n\n`);
    res.end();
  };
  const delta = (content: string, finish: string | null = null) =>
    JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] });

  it('waits as long as Retry-After says, then streams', async () => {
    const s = await scripted([
      (res) => res.writeHead(429, { 'retry-after-ms': '120', 'content-type': 'application/json' }).end('{"error":{"message":"slow down"}}'),
      (res) => sse(res, [delta('hel'), delta('lo', 'stop'), '[DONE]']),
    ]);
    const started = performance.now();
    const cs = await collect('hi', createOpenAICompatibleProvider({ baseUrl: s.url, apiKey: 'k', model: 'm', maxRetries: 1 }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect(textOf(cs)).toBe('hello');
    expect(s.requests()).toBe(2);
    await s.close();
  });

  it('an abort during the wait before a retry ends the call at once, without the retry', async () => {
    const s = await scripted([(res) => res.writeHead(503, { 'retry-after': '30', 'content-type': 'application/json' }).end('{}')]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = performance.now();
    expect(await collect('hi', createOpenAICompatibleProvider({ baseUrl: s.url, apiKey: 'k', model: 'm', maxRetries: 3 }), ac.signal)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2_000); // not the 30 s Retry-After
    expect(s.requests()).toBe(1);
    await s.close();
  });

  it('keeps the base URL path and query, and fails an unsupported protocol at once, not retried', async () => {
    let seen = '';
    const server = http.createServer((req, res) => {
      seen = req.url ?? '';
      req.resume();
      req.on('end', () => sse(res, [delta('ok', 'stop'), '[DONE]']));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const cs = await collect('hi', createOpenAICompatibleProvider({ baseUrl: `http://localhost:${port}/proxy/v1/`, apiKey: 'k', model: 'm', maxRetries: 0 }));
    expect([textOf(cs), seen]).toEqual(['ok', '/proxy/v1/chat/completions']);
    await new Promise((r) => server.close(r));

    const err = await failure(collect('hi', createOpenAICompatibleProvider({ baseUrl: 'ftp://127.0.0.1/v1', apiKey: 'k', model: 'm', maxRetries: 3 })));
    expect(err).toMatchObject({ retryable: false, message: expect.stringContaining('unsupported protocol ftp:') });
  });

  it('an error event inside the stream is a non-retryable LlmError; broken JSON is a retryable one', async () => {
    const s = await scripted([
      (res) => sse(res, [delta('a'), JSON.stringify({ error: { message: 'model overloaded mid-answer' } })]),
      (res) => sse(res, [delta('a'), '{"choices": [']),
      (res) => res.writeHead(400, { 'content-type': 'text/plain' }).end('plain words'),
    ]);
    const p = createOpenAICompatibleProvider({ baseUrl: s.url, apiKey: 'k', model: 'm', maxRetries: 0 });
    expect(await failure(collect('x', p))).toMatchObject({ retryable: false, message: expect.stringContaining('model overloaded mid-answer') });
    expect(await failure(collect('x', p))).toMatchObject({ retryable: true, message: expect.stringContaining('failed') });
    expect(await failure(collect('x', p))).toMatchObject({ status: 400, retryable: false, message: expect.stringContaining('plain words') });
    await s.close();
  });
});

describe('OpenAI-compatible provider memory', () => {
  it('does not hold a request body while its stream is open', async () => {
    // a server that takes each request's body, answers one token and holds the stream open
    const open: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] })}\n\n`);
        open.push(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const p = createOpenAICompatibleProvider({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'k', model: 'm', maxRetries: 0 });
    const history: LlmMessage[] = [{ role: 'user', content: 'x'.repeat(200_000) }];
    const firstText = Array.from({ length: 5 }, () => {
      const it = p.stream({ messages: history })[Symbol.asyncIterator]();
      return { it, first: it.next() };
    });
    for (const s of firstText) expect((await s.first).value).toMatchObject({ type: 'text', text: 'a' });

    // every request body is a string of ~200 KB starting with {"model": count those still alive
    const snapshot = JSON.parse(await text(v8.getHeapSnapshot())) as HeapSnapshot;
    const f = snapshot.snapshot.meta.node_fields;
    const [type, name, size] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
    const stringType = snapshot.snapshot.meta.node_types[0].indexOf('string');
    let bodies = 0;
    for (let i = 0; i < snapshot.nodes.length; i += f.length) {
      if (snapshot.nodes[i + type] === stringType && snapshot.nodes[i + size]! > 150_000 && snapshot.strings[snapshot.nodes[i + name]!]!.startsWith('{"model"')) bodies++;
    }
    expect(bodies).toBe(0);

    for (const res of open) res.end(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
    for (const s of firstText) while (!(await s.it.next()).done);
    await new Promise((r) => server.close(r));
  }, 30_000);
});

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

async function text(stream: AsyncIterable<Buffer | string>): Promise<string> {
  let out = '';
  for await (const c of stream) out += c.toString();
  return out;
}

async function waitFor(cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
