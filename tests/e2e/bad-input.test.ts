import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@semibot/protocol';
import {
  cleanupHome,
  follow,
  openEventsWith,
  postStream,
  sendAndStream,
  slowText,
  startPlatform,
  textOf,
  wsSession,
  type Follower,
  type Platform,
} from './harness.js';

/**
 * Invariant 6: malformed JSON, wrong fields, oversize bodies and frames, bad tokens get a 4xx or a
 * close code with a stable error code — and every other session carries on.
 */

describe('bad input', () => {
  let p: Platform;
  let token: string;
  let agentId: string;
  let sessionId: string;
  // a turn streaming in another session the whole time
  let bystander: Follower;
  let bystanderSession: string;

  beforeAll(async () => {
    p = await startPlatform();
    ({ token, agentId, sessionId } = await p.chat());
    bystanderSession = (await p.api('POST', '/sessions', { token, body: { agentId } })).body.id;
    bystander = await follow((s) => postStream(p, token, bystanderSession, '/slow 120 40', {}, s), {
      stopWhen: (f) => f.event === 'done',
    });
  });
  afterAll(async () => {
    bystander?.close();
    await p?.stop();
    if (p) cleanupHome(p);
  });

  const expectError = (r: { status: number; body: any }, status: number, code: string, what: string) => {
    expect({ what, status: r.status, code: r.body?.error?.code, message: typeof r.body?.error?.message }).toEqual({
      what,
      status,
      code,
      message: 'string',
    });
  };

  it('invalid JSON → 400 INVALID_JSON', async () => {
    const cases: [string, string, string, string?][] = [
      ['POST', `/sessions/${sessionId}/messages`, '{"content": "unterminated'],
      ['POST', `/sessions/${sessionId}/messages`, 'content=hello'],
      ['POST', '/agents', '{name: "no quotes"}'],
      ['PATCH', `/agents/${agentId}`, '{"name": "x",}'],
      ['POST', '/sessions', '[1, 2'],
      ['POST', '/auth/register', '{"email": '], // a public route
      ['POST', '/auth/login', 'null null'],
    ];
    for (const [method, path, rawBody] of cases) {
      expectError(await p.api(method, path, { token, rawBody }), 400, 'INVALID_JSON', `${method} ${path} ${JSON.stringify(rawBody)}`);
    }
    // asking for a stream does not change that: the error comes before any stream starts
    const r = await p.api('POST', `/sessions/${sessionId}/messages`, { token, rawBody: '{', headers: { accept: 'text/event-stream' } });
    expectError(r, 400, 'INVALID_JSON', 'SSE post with bad JSON');
  });

  it('content-type: application/json with no body is no body: served where none is needed, VALIDATION_ERROR where one is', async () => {
    const json = { 'content-type': 'application/json' };
    const doomed = (await p.api('POST', '/sessions', { token, body: { agentId } })).body.id as string;
    // what many HTTP libraries send on every request
    const deleted = await p.api('DELETE', `/sessions/${doomed}`, { token, rawBody: '', headers: json });
    expect(deleted.status).toBe(204);
    expect((await p.api('GET', `/sessions/${doomed}`, { token })).status).toBe(404);
    // a body-less POST (another user's: a rebootstrap restarts the caller's plane, the bystander's stays)
    const other = await p.user();
    const rebootstrapped = await p.api('POST', '/vm/rebootstrap', { token: other.token, rawBody: '', headers: json });
    expect(rebootstrapped.status).toBe(200);
    expect(rebootstrapped.body.mode).toBe('process');
    const withoutBody = await fetch(`${p.url}/api/v1/vm/rebootstrap`, { method: 'POST', headers: { ...json, authorization: `Bearer ${other.token}` } });
    expect(withoutBody.status).toBe(200);
    // a route that needs a body still says so, and stores nothing
    expectError(await p.api('POST', `/sessions/${sessionId}/messages`, { token, rawBody: '', headers: json }), 400, 'VALIDATION_ERROR', 'POST messages, empty body');
    expectError(await p.api('POST', `/sessions/${sessionId}/messages`, { token, rawBody: '  \n', headers: json }), 400, 'VALIDATION_ERROR', 'POST messages, blank body');
    expect((await p.api('GET', `/sessions/${sessionId}/messages`, { token })).body.data).toEqual([]);
  });

  it('missing or wrongly typed fields → 400 VALIDATION_ERROR', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', `/sessions/${sessionId}/messages`, {}],
      ['POST', `/sessions/${sessionId}/messages`, { content: 5 }],
      ['POST', `/sessions/${sessionId}/messages`, { content: '' }],
      ['POST', `/sessions/${sessionId}/messages`, { content: ['a'] }],
      ['POST', `/sessions/${sessionId}/messages`, { content: 'hi', idempotencyKey: 7 }],
      ['POST', `/sessions/${sessionId}/messages`, null],
      ['POST', `/sessions/${sessionId}/messages`, 'just a string'],
      ['POST', '/agents', {}],
      ['POST', '/agents', { name: 42 }],
      ['POST', '/agents', { name: 'a', runtimeType: 'no-such-runtime' }],
      ['PATCH', `/agents/${agentId}`, { skillIds: 'not-a-list' }],
      ['POST', '/sessions', {}],
      ['POST', '/sessions', { agentId: 12 }],
      ['POST', '/auth/register', { email: 'not-an-email', password: 'long enough password' }],
      ['POST', '/auth/register', { email: 'short@example.com', password: 'short' }],
      ['POST', '/auth/login', { email: 'a@example.com' }],
    ];
    for (const [method, path, body] of cases) {
      expectError(await p.api(method, path, { token, body }), 400, 'VALIDATION_ERROR', `${method} ${path} ${JSON.stringify(body)}`);
    }
    // none of it was stored or started
    expect((await p.api('GET', `/sessions/${sessionId}/messages`, { token })).body.data).toEqual([]);
    expect((await p.api('GET', `/agents/${agentId}`, { token })).body.skillIds).toEqual([]);
  });

  it('a body over 1 MiB → 413 PAYLOAD_TOO_LARGE; a content type that is not JSON → 415', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    expectError(await p.api('POST', `/sessions/${sessionId}/messages`, { token, body: { content: big } }), 413, 'PAYLOAD_TOO_LARGE', 'message');
    expectError(await p.api('POST', '/agents', { token, body: { name: 'a', systemPrompt: big } }), 413, 'PAYLOAD_TOO_LARGE', 'agent');
    expectError(await p.api('POST', '/auth/register', { body: { email: 'big@example.com', password: big } }), 413, 'PAYLOAD_TOO_LARGE', 'register');
    const xml = await p.api('POST', `/sessions/${sessionId}/messages`, { token, rawBody: '<content>hi</content>', headers: { 'content-type': 'application/xml' } });
    expectError(xml, 415, 'UNSUPPORTED_MEDIA_TYPE', 'application/xml');
    const text = await p.api('POST', `/sessions/${sessionId}/messages`, { token, rawBody: 'hi', headers: { 'content-type': 'text/plain' } });
    expectError(text, 415, 'UNSUPPORTED_MEDIA_TYPE', 'text/plain');
    expect((await p.api('GET', `/sessions/${sessionId}/messages`, { token })).body.data).toEqual([]);
  });

  it('a bad Last-Event-ID → 400 VALIDATION_ERROR (header or query), not a stream', async () => {
    for (const bad of ['abc', '-1', '1.5', '1e3', '0x10', '7 8', '99999999999999999999']) {
      for (const resume of [{ header: bad }, { query: bad }]) {
        const res = await openEventsWith(p, token, sessionId, resume);
        expect({ bad: resume, type: res.headers.get('content-type') }).toEqual({ bad: resume, type: expect.stringMatching(/^application\/json/) });
        expectError({ status: res.status, body: await res.json() }, 400, 'VALIDATION_ERROR', `Last-Event-ID ${JSON.stringify(resume)}`);
      }
    }
  });

  it('unknown routes → 404 NOT_FOUND', async () => {
    expectError(await p.api('GET', '/no/such/route', { token }), 404, 'NOT_FOUND', 'GET unknown');
    expectError(await p.api('POST', `/sessions/${sessionId}/nothing`, { token, body: {} }), 404, 'NOT_FOUND', 'POST unknown');
  });

  it('/ws/vm: garbage, bad tokens, silence and huge frames are closed with a code', async () => {
    const auth = (t: string) => JSON.stringify({ type: 'auth', token: t, protocolVersion: PROTOCOL_VERSION });
    const [garbage, notAuth, badToken, userToken, binary, huge, silent, wrongPath] = await Promise.all([
      wsSession(p, (ws) => ws.send('hello, is this thing on?')),
      wsSession(p, (ws) => ws.send(JSON.stringify({ type: 'heartbeat', activeSessions: 0, activeRuns: 0 }))),
      wsSession(p, (ws) => ws.send(auth('garbage.token.here'))),
      // a user's token is not a plane's token
      wsSession(p, (ws) => ws.send(auth(token))),
      wsSession(p, (ws) => ws.send(Buffer.from([0, 1, 2, 3]))),
      wsSession(p, (ws) => ws.send(JSON.stringify({ type: 'auth', token: 'x'.repeat(1024 * 1024 + 100), protocolVersion: PROTOCOL_VERSION }))),
      wsSession(p, () => {}, { timeoutMs: 10_000 }),
      wsSession(p, () => {}, { path: '/ws/nope' }),
    ]);
    // a plane of another protocol version is told so, whatever its token
    const older = await wsSession(p, (ws) => ws.send(JSON.stringify({ type: 'auth', token: 'any', protocolVersion: PROTOCOL_VERSION - 1 })));
    expect([older.code, older.reason]).toEqual([4426, `PROTOCOL_MISMATCH: the control plane speaks version ${PROTOCOL_VERSION}`]);
    for (const [what, o] of Object.entries({ garbage, notAuth, badToken, userToken, binary })) {
      expect({ what, code: o.code }).toEqual({ what, code: 4001 });
    }
    expect(huge.code).toBe(1009);
    expect(silent.code).toBe(4001);
    expect(silent.ms).toBeGreaterThanOrEqual(4_000);
    expect(silent.ms).toBeLessThan(7_000);
    expect(wrongPath.refusedStatus).toBe(404);
  });

  it('/ws/vm: a refused peer that never answers the close frame loses its TCP connection within a second', async () => {
    const { closeFrameToCut } = await rawWsRefusal(p.url);
    expect(closeFrameToCut.code).toBe(4001);
    expect(closeFrameToCut.ms).toBeLessThan(1_500);
  });

  it('after all of that the service is healthy and other sessions are unaffected', async () => {
    const health = await fetch(`${p.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${p.url}/readyz`)).status).toBe(200);

    // the turn that was streaming throughout finished intact
    const frames = await bystander.finished;
    expect(frames[0]!.event).toBe('run');
    expect(frames.at(-1)!.data).toMatchObject({ type: 'done', status: 'completed' });
    expect(textOf(frames)).toBe(slowText(120));
    // and a new turn in yet another session completes normally
    const fresh = (await p.api('POST', '/sessions', { token, body: { agentId } })).body.id;
    const turn = await sendAndStream(p, token, fresh, '/echo still here');
    expect(turn.at(-1)!.data.status).toBe('completed');
    expect(textOf(turn)).toBe('still here');
    // so does one in the session that took the abuse
    expect(textOf(await sendAndStream(p, token, sessionId, '/echo me too'))).toBe('me too');
  });
});

/**
 * A WebSocket client by hand, so that it can misbehave: it upgrades, sends a text frame that is not
 * an auth frame, and then never answers the server's close frame. Resolves with the close code and
 * how long the server kept the TCP connection open after sending it.
 */
function rawWsRefusal(url: string): Promise<{ closeFrameToCut: { code: number; ms: number } }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('the server kept the socket for 10 s'))), 10_000);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let closeAt: { code: number; at: number } | null = null;
    socket.on('connect', () => {
      socket.write(
        `GET /ws/vm HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        buf = buf.subarray(end + 4);
        // a masked text frame (clients must mask) that is not an auth frame
        const payload = Buffer.from('not an auth frame');
        const mask = randomBytes(4);
        const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
      }
      // the server's close frame: opcode 8, unmasked, the code in the first two payload bytes
      if (!closeAt && buf.length >= 4 && (buf[0]! & 0x0f) === 8) closeAt = { code: buf.readUInt16BE(2), at: performance.now() };
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!closeAt) return reject(new Error('the socket closed without a close frame'));
      resolve({ closeFrameToCut: { code: closeAt.code, ms: performance.now() - closeAt.at } });
    });
    socket.on('error', () => {});
  });
}
