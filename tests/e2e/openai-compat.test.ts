import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, slowText, startPlatform, type Platform } from './harness.js';

/**
 * POST /v1/chat/completions in front of an agent, driven by the official `openai` npm client with
 * an `sbk_` API key — as an existing OpenAI integration would, pointed at Semibot.
 */
describe('OpenAI-compatible endpoint', () => {
  let p: Platform;
  let token: string;
  let agentId: string;
  let client: OpenAI;
  beforeAll(async () => {
    p = await startPlatform();
    ({ token } = await p.user());
    agentId = (await p.api('POST', '/agents', { token, body: { name: 'Helper' } })).body.id;
    const key = (await p.api('POST', '/api-keys', { token, body: { name: 'openai sdk' } })).body.key as string;
    client = new OpenAI({ baseURL: `${p.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  it('lists the agents as models and answers by agent name or id', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([agentId]);
    const byName = await client.chat.completions.create({ model: 'Helper', messages: [{ role: 'user', content: '/echo hi there' }] });
    expect(byName).toMatchObject({ object: 'chat.completion', model: 'Helper', choices: [{ index: 0, message: { role: 'assistant', content: 'hi there' }, finish_reason: 'stop' }] });
    expect(byName.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(byName.usage!.total_tokens).toBe(byName.usage!.prompt_tokens + byName.usage!.completion_tokens);
    const byId = await client.chat.completions.create({ model: agentId, messages: [{ role: 'user', content: [{ type: 'text', text: '/echo by id' }] }] });
    expect(byId.choices[0]!.message.content).toBe('by id');
  });

  it('streams chunks, ends with finish_reason stop and a usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'Helper',
      messages: [{ role: 'user', content: '/slow 12 15' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finish: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const c of stream) {
      expect(c.object).toBe('chat.completion.chunk');
      for (const choice of c.choices) {
        text += choice.delta.content ?? '';
        if (choice.finish_reason) finish.push(choice.finish_reason);
      }
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe(slowText(12));
    expect(finish).toEqual(['stop']);
    expect(usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('an earlier conversation becomes the new session\'s history; X-Semibot-Session-Id continues a session', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: 'Helper',
        messages: [
          { role: 'system', content: 'Answer briefly.' },
          { role: 'user', content: 'my name is Ada' },
          { role: 'assistant', content: 'Hello Ada' },
          { role: 'user', content: '/echo and now?' },
        ],
      })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('and now?');
    const sessionId = response.headers.get('x-semibot-session-id')!;
    const roles = (id: string) => p.api('GET', `/sessions/${id}/messages`, { token }).then((r) => r.body.data.map((m: any) => [m.role, m.content]));
    expect(await roles(sessionId)).toEqual([
      ['system', 'Answer briefly.'],
      ['user', 'my name is Ada'],
      ['assistant', 'Hello Ada'],
      ['user', '/echo and now?'],
      ['assistant', 'and now?'],
    ]);
    // the session keeps its history: only the new message is sent
    const next = await client.chat.completions.create({ model: 'Helper', messages: [{ role: 'user', content: '/echo again' }] }, { headers: { 'x-semibot-session-id': sessionId } });
    expect(next.choices[0]!.message.content).toBe('again');
    expect((await roles(sessionId)).slice(-2)).toEqual([
      ['user', '/echo again'],
      ['assistant', 'again'],
    ]);
  });

  it('refuses what it cannot do with OpenAI-style errors the client understands, and stores nothing', async () => {
    const sessionsBefore = (await p.api('GET', `/sessions?agentId=${agentId}`, { token })).body.data.length;
    const err = (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    const noModel = await err(client.chat.completions.create({ model: 'Nobody', messages: [{ role: 'user', content: 'hi' }] }));
    expect(noModel).toBeInstanceOf(OpenAI.NotFoundError);
    expect(noModel!.code).toBe('NOT_FOUND');
    const tools = await err(
      client.chat.completions.create({
        model: 'Helper',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      }),
    );
    expect(tools).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tools!.message).toMatch(/brings its own tools/);
    const lastNotUser = await err(client.chat.completions.create({ model: 'Helper', messages: [{ role: 'assistant', content: 'hi' }] }));
    expect(lastNotUser).toBeInstanceOf(OpenAI.BadRequestError);
    const image = await err(client.chat.completions.create({ model: 'Helper', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }] }));
    expect(image!.message).toMatch(/text only/);
    const badKey = new OpenAI({ baseURL: `${p.url}/v1`, apiKey: 'sbk_not_a_key', maxRetries: 0 });
    expect(await err(badKey.models.list())).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await p.api('GET', `/sessions?agentId=${agentId}`, { token })).body.data.length).toBe(sessionsBefore);
  });

  it('a run that fails is an error: a 502 without streaming, an error the stream throws', async () => {
    const failed = await client.chat.completions.create({ model: 'Helper', messages: [{ role: 'user', content: '/fail 500' }] }).then(
      () => null,
      (e: InstanceType<typeof OpenAI.APIError>) => e,
    );
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect([failed!.status, failed!.code]).toEqual([502, 'LLM_ERROR']);
    const stream = await client.chat.completions.create({ model: 'Helper', messages: [{ role: 'user', content: '/fail_mid 3' }], stream: true });
    let text = '';
    const thrown = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    })().then(
      () => null,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    expect(thrown).toBeInstanceOf(OpenAI.APIError);
    expect(thrown!.code).toBe('LLM_ERROR');
    expect(text).toBe(slowText(3));
  });
});
