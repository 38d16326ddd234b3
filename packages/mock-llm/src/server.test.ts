import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from './server.js';

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm({ port: 0 });
});
afterAll(() => mock.close());

interface Frame {
  choices: { delta: { content?: string | null; tool_calls?: unknown[] }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
}

function chat(content: string, extra: Record<string, unknown> = {}, init: RequestInit = {}): Promise<Response> {
  return fetch(`${mock.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer anything' },
    body: JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content }], ...extra }),
    ...init,
  });
}

/** Reads a whole SSE body into its JSON frames; `done` tells whether `[DONE]` arrived. */
async function frames(res: Response): Promise<{ frames: Frame[]; done: boolean }> {
  const text = await res.text();
  const out: Frame[] = [];
  let done = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    if (line === 'data: [DONE]') done = true;
    else out.push(JSON.parse(line.slice(6)) as Frame);
  }
  return { frames: out, done };
}

const contentOf = (fs: Frame[]): string[] =>
  fs.flatMap((f) => (f.choices[0]?.delta.content ? [f.choices[0].delta.content] : []));

describe('mock-llm server', () => {
  it('lists its models', async () => {
    const res = await fetch(`${mock.url}/models`);
    const body = (await res.json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id)).toEqual(['mock-1', 'mock-slow']);
  });

  it('streams the echo word by word, then usage and [DONE]', async () => {
    const res = await chat('hello there', { stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const { frames: fs, done } = await frames(res);
    expect(contentOf(fs)).toEqual(['You ', 'said: ', 'hello ', 'there']);
    expect(fs.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(fs.at(-1)?.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 4 });
    expect(done).toBe(true);
  });

  it('omits the usage frame unless asked', async () => {
    const { frames: fs } = await frames(await chat('/echo a b'));
    expect(fs.some((f) => f.usage)).toBe(false);
    expect(contentOf(fs).join('')).toBe('a b');
  });

  it('paces /slow tokens and stamps /ts tokens with the emit time', async () => {
    const t0 = Date.now();
    expect(contentOf((await frames(await chat('/slow 3 15'))).frames)).toEqual(['tok1 ', 'tok2 ', 'tok3 ']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);

    const before = Date.now() * 1000;
    const stamps = contentOf((await frames(await chat('/ts 5 2'))).frames).map((s) => Number(s.trim()));
    expect(stamps).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      expect(stamps[i]).toBeGreaterThanOrEqual(before - 5_000);
      expect(stamps[i]).toBeLessThanOrEqual(Date.now() * 1000 + 5_000);
      if (i > 0) expect(stamps[i]).toBeGreaterThan(stamps[i - 1]!);
    }
  });

  it('answers without streaming', async () => {
    const res = await chat('/echo one two', { stream: false });
    const body = (await res.json()) as { choices: { message: { content: string } }[]; usage: unknown };
    expect(body.choices[0]?.message.content).toBe('one two');
    expect(body.usage).toMatchObject({ completion_tokens: 2 });
  });

  it('streams parallel tool calls, then answers with the tool result', async () => {
    const { frames: fs } = await frames(await chat('/tools a {"x":1} ; b {}'));
    const deltas = fs.flatMap((f) => f.choices[0]?.delta.tool_calls ?? []) as {
      index: number;
      id?: string;
      function: { name?: string; arguments: string };
    }[];
    expect(deltas.filter((d) => d.index === 0).length).toBeGreaterThanOrEqual(3); // header + 2 pieces
    expect(deltas.filter((d) => d.index === 0).map((d) => d.function.arguments).join('')).toBe('{"x":1}');
    expect(deltas.filter((d) => d.id).map((d) => d.function.name)).toEqual(['a', 'b']);
    expect(fs.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');

    const follow = await chat('', {
      messages: [
        { role: 'user', content: '/tool a {"x":1}' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'a', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
    });
    expect(contentOf((await frames(follow)).frames).join('')).toBe('Tool result: sunny');
  });

  it('fails with the scripted status and an OpenAI error body', async () => {
    const res = await chat('/fail 503');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { type: 'server_error', code: 'mock_503' } });
  });

  it('answers 400 to bad JSON, bad scripts and missing messages, and keeps serving', async () => {
    const bad = await fetch(`${mock.url}/chat/completions`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_json' } });
    expect((await chat('/slow x')).status).toBe(400);
    const empty = await fetch(`${mock.url}/chat/completions`, { method: 'POST', body: '{"messages":[]}' });
    expect(empty.status).toBe(400);
    expect((await fetch(`${mock.url}/nope`)).status).toBe(404);
    expect((await chat('still alive')).status).toBe(200);
  });

  it('breaks the connection after /fail_mid tokens', async () => {
    const res = await chat('/fail_mid 2');
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += decoder.decode(value);
        }
      })(),
    ).rejects.toThrow();
    expect(text).toContain('tok2 ');
    expect(text).not.toContain('[DONE]');
  });

  it('holds /hang open until the client aborts, then frees the stream', async () => {
    const ac = new AbortController();
    const res = await chat('/hang', {}, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(mock.stats().active).toBeGreaterThanOrEqual(1);
    ac.abort();
    await expect(res.text()).rejects.toThrow();
    await waitFor(() => mock.stats().active === 0);
  });

  it('serves hundreds of concurrent streams', async () => {
    const before = mock.stats().requests;
    const replies = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => contentOf((await frames(await chat(`/slow 5 2 ${i}`))).frames).join('')),
    );
    expect(new Set(replies)).toEqual(new Set(['tok1 tok2 tok3 tok4 tok5 ']));
    expect(mock.stats().requests - before).toBe(300);
  });

  it('paces echo at 20 ms per token for mock-slow', async () => {
    const t0 = performance.now();
    await frames(await chat('/echo a b c', { model: 'mock-slow' }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });
});

async function waitFor(cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
