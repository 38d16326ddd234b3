import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, freePort, sendAndStream, startPlatform, textOf, waitFor, type Platform } from './harness.js';
import {
  agentWithSession,
  eventTypes,
  everythingMain,
  filesContaining,
  framesOf,
  metric,
  planeHome,
  planePid,
  planeProcesses,
  processAlive,
  childrenOf,
  startRemoteEverything,
  type RemoteMcp,
} from './semigraph-helpers.js';

/**
 * MCP tools through the SemiGraph runtime, with the real `@modelcontextprotocol/server-everything`:
 * over stdio (spawned inside the execution plane) and over streamable HTTP (called by the control
 * plane on the plane's behalf, so the server's URL and credentials never reach the plane).
 */
describe('SemiGraph MCP tools', () => {
  let p: Platform;
  let remote: RemoteMcp;
  const serverIds: string[] = [];
  beforeAll(async () => {
    [p, remote] = await Promise.all([startPlatform(), startRemoteEverything()]);
  });
  afterAll(async () => {
    await p?.stop();
    await remote?.stop();
    if (p) cleanupHome(p);
  });

  const storedAnswer = async (token: string, sessionId: string, runId: string) => {
    const h = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    return h.body.data.filter((m: any) => m.role === 'assistant' && m.runId === runId).map((m: any) => m.content);
  };

  it('stdio server: mcp_call (with the server name) then mcp_result; the result reaches the answer, the history and the audit log', async () => {
    const { token } = await p.user();
    const server = await p.api('POST', '/mcp-servers', {
      token,
      body: { name: 'everything', transport: 'stdio', command: process.execPath, args: [everythingMain, 'stdio'] },
    });
    expect(server.status).toBe(201);
    expect(server.body).toMatchObject({ name: 'everything', transport: 'stdio', command: process.execPath });
    serverIds.push(server.body.id);
    // PATCH changes only what it names: args (and env, headers) are kept
    const patched = await p.api('PATCH', `/mcp-servers/${server.body.id}`, { token, body: { name: 'everything' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'everything', command: process.execPath, args: [everythingMain, 'stdio'] });
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: [server.body.id] });

    const frames = await sendAndStream(p, token, sessionId, '/tool mcp__everything__echo {"message":"hello over stdio"}');
    const runId = frames[0]!.data.runId as string;
    expect(frames.at(-1)!.data).toMatchObject({ type: 'done', status: 'completed' });
    const [call, ...moreCalls] = framesOf(frames, 'mcp_call');
    const [result, ...moreResults] = framesOf(frames, 'mcp_result');
    expect(moreCalls).toEqual([]);
    expect(moreResults).toEqual([]);
    expect(call!.data).toMatchObject({ server: 'everything', name: 'mcp__everything__echo', args: { message: 'hello over stdio' } });
    expect(result!.data).toMatchObject({ callId: call!.data.callId, isError: false, result: [{ type: 'text', text: 'Echo: hello over stdio' }] });
    expect(eventTypes(frames).indexOf('mcp_call')).toBeLessThan(eventTypes(frames).indexOf('mcp_result'));
    // an MCP call is reported as such, not as a generic tool call
    expect(framesOf(frames, 'tool_call')).toEqual([]);

    expect(textOf(frames)).toBe('Tool result: Echo: hello over stdio');
    expect(await storedAnswer(token, sessionId, runId)).toEqual(['Tool result: Echo: hello over stdio']);

    const audit = await waitFor(async () => {
      const r = await p.api('GET', `/audit?runId=${runId}`, { token });
      return r.body.data.length > 0 ? r.body.data : null;
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'mcp_call', target: 'mcp__everything__echo', runId, sessionId });
    expect(audit[0].details).toMatchObject({ server: 'everything', isError: false, args: { message: 'hello over stdio' } });
  });

  it('a stdio server that dies is started again on the next turn, not failed forever', async () => {
    const { token, userId } = await p.user();
    const server = await p.api('POST', '/mcp-servers', {
      token,
      body: { name: 'mortal', transport: 'stdio', command: process.execPath, args: [everythingMain, 'stdio'] },
    });
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: [server.body.id] });
    const ask = async (message: string) => textOf(await sendAndStream(p, token, sessionId, `/tool mcp__mortal__echo {"message":"${message}"}`));
    expect(await ask('one')).toBe('Tool result: Echo: one');
    const plane = planePid(p, userId)!;
    const servers = childrenOf(plane).filter((c) => c.cmdline.includes('server-everything'));
    expect(servers).toHaveLength(1);
    process.kill(servers[0]!.pid, 'SIGKILL');
    await waitFor(async () => !processAlive(servers[0]!.pid), 5_000);
    expect(await ask('two')).toBe('Tool result: Echo: two');
    expect(childrenOf(plane).filter((c) => c.cmdline.includes('server-everything'))).toHaveLength(1);
  });

  it('an MCP tool error is reported as an error result, and the turn still completes', async () => {
    const { token } = await p.user();
    const server = await p.api('POST', '/mcp-servers', {
      token,
      body: { name: 'ev', transport: 'stdio', command: process.execPath, args: [everythingMain, 'stdio'] },
    });
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: [server.body.id] });
    // echo requires `message`: the server answers with isError (schema validation), not a crash
    const frames = await sendAndStream(p, token, sessionId, '/tool mcp__ev__echo {"wrong":1}');
    expect(frames.at(-1)!.data.status).toBe('completed');
    expect(framesOf(frames, 'mcp_result')[0]!.data.isError).toBe(true);
    expect(textOf(frames)).toMatch(/^Tool result: .*message/s);
  });

  it('streamable HTTP server: called by the control plane with the stored headers; headers are masked in the API; the plane never sees URL or headers', async () => {
    const secret = `Bearer s3cret-${Date.now()}`;
    const { token, userId } = await p.user();
    const created = await p.api('POST', '/mcp-servers', {
      token,
      body: { name: 'remote', transport: 'streamable_http', url: remote.url, headers: { Authorization: secret } },
    });
    expect(created.status).toBe(201);
    serverIds.push(created.body.id);
    expect(created.body).toMatchObject({ name: 'remote', transport: 'streamable_http', url: remote.url, headers: { Authorization: '***' } });

    const listed = await p.api('GET', '/mcp-servers', { token });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0]).toMatchObject({ id: created.body.id, headers: { Authorization: '***' } });
    const one = await p.api('GET', `/mcp-servers/${created.body.id}`, { token });
    expect(one.body.headers).toEqual({ Authorization: '***' });
    expect(JSON.stringify([created.body, listed.body, one.body])).not.toContain('s3cret');

    const remoteCallsBefore = await metric(p, 'semibot_plane_requests_total', { method: 'mcp_call' });
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: [created.body.id] });
    const frames = await sendAndStream(p, token, sessionId, '/tool mcp__remote__echo {"message":"hello over http"}');
    const runId = frames[0]!.data.runId as string;
    expect(frames.at(-1)!.data).toMatchObject({ type: 'done', status: 'completed' });
    const call = framesOf(frames, 'mcp_call');
    const result = framesOf(frames, 'mcp_result');
    expect(call).toHaveLength(1);
    expect(call[0]!.data).toMatchObject({ server: 'remote', name: 'mcp__remote__echo', args: { message: 'hello over http' } });
    expect(result).toHaveLength(1);
    expect(result[0]!.data).toMatchObject({ callId: call[0]!.data.callId, isError: false, result: [{ type: 'text', text: 'Echo: hello over http' }] });
    expect(eventTypes(frames).indexOf('mcp_call')).toBeLessThan(eventTypes(frames).indexOf('mcp_result'));
    expect(textOf(frames)).toBe('Tool result: Echo: hello over http');
    expect(await storedAnswer(token, sessionId, runId)).toEqual(['Tool result: Echo: hello over http']);

    // the call went through the control plane (request mcp_call), which sent the stored header
    expect(await metric(p, 'semibot_plane_requests_total', { method: 'mcp_call' })).toBe(remoteCallsBefore + 1);
    expect(remote.seen.length).toBeGreaterThan(0);
    expect(remote.seen.every((r) => r.authorization === secret)).toBe(true);

    // ...and the plane never had the URL or the header: not in its environment or command line,
    // not on its disk, not in its log lines (the control plane passes them through on stdout)
    const needles = [secret, 's3cret', remote.url];
    const planes = planeProcesses(p).filter((x) => x.home === planeHome(p, userId));
    expect(planes).toHaveLength(1);
    for (const plane of planes) for (const n of needles) expect(plane.environ + plane.cmdline).not.toContain(n);
    expect(filesContaining(planeHome(p, userId), needles)).toEqual([]);
    expect(filesContaining(planeHome(p, userId), ['hello over http']).length).toBeGreaterThan(0); // the scan does read the plane's state
    const planeLines = p.logs.join('').split('\n').filter((l) => l.includes('"service":"runtime"'));
    expect(planeLines.length).toBeGreaterThan(0);
    for (const n of needles) expect(planeLines.filter((l) => l.includes(n))).toEqual([]);

    // a PATCH of something else keeps the stored headers: the next call still carries them
    const patched = await p.api('PATCH', `/mcp-servers/${created.body.id}`, { token, body: { name: 'remote' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ url: remote.url, headers: { Authorization: '***' } });
    const seenBefore = remote.seen.length;
    const again = await sendAndStream(p, token, sessionId, '/tool mcp__remote__echo {"message":"after patch"}');
    expect(textOf(again)).toBe('Tool result: Echo: after patch');
    expect(remote.seen.length).toBeGreaterThan(seenBefore);
    expect(remote.seen.slice(seenBefore).every((r) => r.authorization === secret)).toBe(true);
  });

  it('a remote server that restarted (its MCP sessions gone) is reconnected to, not failed forever', async () => {
    const { token } = await p.user();
    const server = await p.api('POST', '/mcp-servers', { token, body: { name: 'flaky', transport: 'streamable_http', url: remote.url } });
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: [server.body.id] });
    const ask = async (message: string) => textOf(await sendAndStream(p, token, sessionId, `/tool mcp__flaky__echo {"message":"${message}"}`));
    expect(await ask('before')).toBe('Tool result: Echo: before');
    await remote.restartServer();
    // the old MCP session is gone: the next turn's tool listing reconnects
    expect(await ask('after')).toBe('Tool result: Echo: after');
    expect(await ask('again')).toBe('Tool result: Echo: again');
  });

  it('an unreachable remote server is reported as a failed plan_step without its URL or headers; the turn goes on', async () => {
    const { token } = await p.user();
    const url = `http://127.0.0.1:${await freePort()}/mcp`;
    const down = await p.api('POST', '/mcp-servers', {
      token,
      body: { name: 'down', transport: 'streamable_http', url, headers: { 'X-Api-Key': 'k3y-never-shown' } },
    });
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: [down.body.id] });
    const frames = await sendAndStream(p, token, sessionId, '/echo still answering');
    expect(frames.at(-1)!.data.status).toBe('completed');
    expect(textOf(frames)).toBe('still answering');
    const failed = framesOf(frames, 'plan_step').filter((f) => f.data.status === 'failed');
    expect(failed.map((f) => f.data.stepId)).toEqual(['mcp:down']);
    expect(failed[0]!.data.title).toMatch(/^MCP server unavailable: down: /);
    expect(JSON.stringify(frames)).not.toContain('k3y-never-shown');
    expect(JSON.stringify(frames)).not.toContain(url);
  });

  it('another org can neither see nor use the servers, even by id', async () => {
    expect(serverIds).toHaveLength(2); // from the tests above
    const { token } = await p.user();
    expect((await p.api('GET', '/mcp-servers', { token })).body.data).toEqual([]);
    for (const id of serverIds) {
      expect((await p.api('GET', `/mcp-servers/${id}`, { token })).status).toBe(404);
      expect((await p.api('PATCH', `/mcp-servers/${id}`, { token, body: { name: 'mine' } })).status).toBe(404);
      expect((await p.api('DELETE', `/mcp-servers/${id}`, { token })).status).toBe(404);
    }
    const remoteCallsBefore = await metric(p, 'semibot_plane_requests_total', { method: 'mcp_call' });
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: serverIds });
    const frames = await sendAndStream(p, token, sessionId, '/tools mcp__remote__echo {"message":"x"} ; mcp__everything__echo {"message":"y"}');
    expect(frames.at(-1)!.data.status).toBe('completed');
    expect(framesOf(frames, 'mcp_call')).toEqual([]);
    expect(framesOf(frames, 'tool_result').map((f) => [f.data.result, f.data.isError])).toEqual([
      ['unknown tool: mcp__remote__echo', true],
      ['unknown tool: mcp__everything__echo', true],
    ]);
    expect(await metric(p, 'semibot_plane_requests_total', { method: 'mcp_call' })).toBe(remoteCallsBefore);
  });

  it('bad server definitions are rejected with 400 VALIDATION_ERROR', async () => {
    const { token } = await p.user();
    for (const body of [
      { name: 'x', transport: 'streamable_http' },
      { name: 'x', transport: 'stdio' },
      { name: 'x', transport: 'streamable_http', url: 'file:///etc/passwd' },
      { name: 'x', transport: 'carrier-pigeon', command: 'x' },
    ]) {
      const r = await p.api('POST', '/mcp-servers', { token, body });
      expect([r.status, r.body.error?.code], JSON.stringify(body)).toEqual([400, 'VALIDATION_ERROR']);
    }
    expect((await p.api('GET', '/mcp-servers', { token })).body.data).toEqual([]);
  });
});
