import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '../../tools/tool.js';
import { stableJson, ToolProxy, type ProxiedTurn } from './tool-proxy.js';

/** A tool that says which session ran it, so attribution is visible in the result. */
const whoAmI = (): Tool => ({
  kind: 'tool',
  spec: { name: 'who', description: 'which session', parameters: { type: 'object', properties: { n: { type: 'number' } } } },
  execute: async (args, ctx) => ({ content: `${ctx.sessionId}:${String(args.n)}` }),
});
const turnOf = (sessionId: string, tools: Tool[]): ProxiedTurn => ({
  sessionId,
  tools,
  ctx: { sessionId, runId: `run-${sessionId}`, workDir: '/tmp', signal: new AbortController().signal },
});

describe('ToolProxy: our tools as an MCP server for OpenClaw', () => {
  const proxy = new ToolProxy();
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients.length = 0;
  });
  const connect = async (token = proxy.token) => {
    const c = new Client({ name: 'test', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(await proxy.endpoint()), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    clients.push(c);
    return c;
  };

  it('refuses a caller without the token', async () => {
    await expect(connect('wrong')).rejects.toThrow();
    const res = await fetch(await proxy.endpoint(), { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
  });

  it("lists the running turns' tools and runs a call in the only turn that has the tool", async () => {
    const end = proxy.begin(turnOf('s1', [whoAmI()]));
    const c = await connect();
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['who']);
    expect(await c.callTool({ name: 'who', arguments: { n: 1 } })).toMatchObject({ content: [{ type: 'text', text: 's1:1' }], isError: false });
    end();
    // no turn has it any more: refused as unavailable, not run somewhere else
    expect(await c.callTool({ name: 'who', arguments: { n: 2 } })).toMatchObject({ isError: true });
  });

  it('with two turns holding the tool, a call goes to the one whose OpenClaw start event matches, even if that arrives later', async () => {
    const a = turnOf('a', [whoAmI()]);
    const b = turnOf('b', [whoAmI()]);
    const endA = proxy.begin(a);
    const endB = proxy.begin(b);
    const c = await connect();
    const pending = c.callTool({ name: 'who', arguments: { n: 7 } });
    setTimeout(() => proxy.expect(b, 'who', { n: 7 }), 50);
    expect(await pending).toMatchObject({ content: [{ type: 'text', text: 'b:7' }] });
    proxy.expect(a, 'who', { n: 8 });
    expect(await c.callTool({ name: 'who', arguments: { n: 8 } })).toMatchObject({ content: [{ type: 'text', text: 'a:8' }] });
    endA();
    endB();
  });

  it('stableJson ignores key order', () => {
    expect(stableJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(stableJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });
});
