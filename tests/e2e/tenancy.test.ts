import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, openEventsWith, post, startPlatform, waitRun, type Platform } from './harness.js';

/**
 * Invariant 5: every read and write is scoped to the caller's org; another org's id is a 404 (never
 * its data), a malformed id is a 404, and no or a forged credential is a 401.
 */
const JWT_SECRET = randomBytes(32).toString('hex');
const PASSWORD = 'correct horse battery';

describe('tenancy and authentication', () => {
  let p: Platform;
  // the owner: an agent, a session with one finished turn
  let owner: { token: string; userId: string; orgId: string; agentId: string; sessionId: string; runId: string };
  let other: { token: string; userId: string; orgId: string };

  beforeAll(async () => {
    p = await startPlatform({ env: { JWT_SECRET } });
    const u = await p.user();
    const agent = await p.api('POST', '/agents', { token: u.token, body: { name: 'private agent', systemPrompt: 'secret prompt' } });
    const session = await p.api('POST', '/sessions', { token: u.token, body: { agentId: agent.body.id, title: 'private' } });
    const sent = await post(p, u.token, session.body.id, '/echo private answer');
    await waitRun(p, u.token, sent.body.runId);
    owner = { ...u, agentId: agent.body.id, sessionId: session.body.id, runId: sent.body.runId };
    other = await p.user();
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  const expect404 = (r: { status: number; body: any }, what: string) => {
    expect({ what, status: r.status, code: r.body?.error?.code }).toEqual({ what, status: 404, code: 'NOT_FOUND' });
  };

  it("another org's user gets 404 NOT_FOUND on every session, agent and run route", async () => {
    const { sessionId: s, agentId: a, runId: r } = owner;
    const t = other.token;
    const calls: [string, string, unknown?][] = [
      ['GET', `/sessions/${s}`],
      ['GET', `/sessions/${s}/messages`],
      ['POST', `/sessions/${s}/messages`, { content: 'let me in' }],
      ['POST', `/sessions/${s}/messages`, { content: 'let me in', idempotencyKey: 'k1' }],
      ['POST', `/sessions/${s}/cancel`],
      ['DELETE', `/sessions/${s}`],
      ['GET', `/agents/${a}`],
      ['PATCH', `/agents/${a}`, { name: 'hijacked', systemPrompt: 'leak everything' }],
      ['DELETE', `/agents/${a}`],
      ['GET', `/runs/${r}`],
      ['POST', '/sessions', { agentId: a }],
    ];
    for (const [method, path, body] of calls) expect404(await p.api(method, path, { token: t, body }), `${method} ${path}`);
    // the event stream, with and without a resume id, and the SSE flavour of posting
    for (const resume of [{}, { header: 0 }, { query: 1 }]) {
      const res = await openEventsWith(p, t, s, resume);
      expect404({ status: res.status, body: await res.json() }, `GET events ${JSON.stringify(resume)}`);
    }
    const sse = await fetch(`${p.url}/api/v1/sessions/${s}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ content: 'let me in' }),
    });
    expect404({ status: sse.status, body: await sse.json() }, 'POST messages (SSE)');

    // Their lists hold none of the owner's objects.
    for (const path of ['/sessions', '/agents', `/sessions?agentId=${a}`]) {
      const list = await p.api('GET', path, { token: t });
      expect(list.status).toBe(200);
      expect(list.body.data).toEqual([]);
    }

    // And nothing they tried changed anything.
    const mine = owner.token;
    expect((await p.api('GET', `/sessions/${s}`, { token: mine })).body).toMatchObject({ id: s, title: 'private' });
    expect((await p.api('GET', `/agents/${a}`, { token: mine })).body).toMatchObject({ name: 'private agent', systemPrompt: 'secret prompt' });
    expect((await p.api('GET', `/runs/${r}`, { token: mine })).body.status).toBe('completed');
    const history = await p.api('GET', `/sessions/${s}/messages`, { token: mine });
    expect(history.body.data.map((m: any) => m.content)).toEqual(['/echo private answer', 'private answer']);
    expect((await p.api('GET', '/sessions', { token: mine })).body.data.map((x: any) => x.id)).toEqual([s]);
  });

  it('malformed and unknown ids are 404 NOT_FOUND too, never a 500', async () => {
    const t = owner.token;
    const bad = ['not-a-uuid', '123', `${owner.sessionId}x`, "x' OR '1'='1", '%00', randomUUID()];
    for (const id of bad) {
      const e = encodeURIComponent(id);
      for (const [method, path] of [
        ['GET', `/sessions/${e}`],
        ['DELETE', `/sessions/${e}`],
        ['GET', `/sessions/${e}/messages`],
        ['GET', `/sessions/${e}/events`],
        ['POST', `/sessions/${e}/cancel`],
        ['GET', `/agents/${e}`],
        ['DELETE', `/agents/${e}`],
        ['GET', `/runs/${e}`],
      ] as const) {
        expect404(await p.api(method, path, { token: t }), `${method} ${path}`);
      }
      expect404(await p.api('POST', `/sessions/${e}/messages`, { token: t, body: { content: 'hi' } }), `POST messages ${id}`);
      expect404(await p.api('POST', '/sessions', { token: t, body: { agentId: id } }), `POST /sessions agent ${id}`);
    }
  });

  it('no token, a garbage token or a forged one → 401 UNAUTHORIZED', async () => {
    const claims = { org: owner.orgId, typ: 'user' };
    const sign = (secret: string, c: Record<string, unknown> = claims, exp: string | number = '1h') =>
      new SignJWT(c)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(owner.userId)
        .setIssuer('semibot')
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const [head, payload, sig] = owner.token.split('.');
    const flipped = sig!.slice(0, -4) + (sig!.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const forged: Record<string, string | undefined> = {
      none: undefined,
      garbage: 'Bearer garbage',
      'empty bearer': 'Bearer ',
      'basic scheme': `Basic ${Buffer.from('a:b').toString('base64')}`,
      'bare token': owner.token,
      'another secret': `Bearer ${await sign(randomBytes(32).toString('hex'))}`,
      'tampered signature': `Bearer ${head}.${payload}.${flipped}`,
      'tampered payload': `Bearer ${head}.${Buffer.from(JSON.stringify({ sub: other.userId, org: other.orgId, typ: 'user', iss: 'semibot' })).toString('base64url')}.${sig}`,
      'alg none': `Bearer ${new UnsecuredJWT({ ...claims, sub: owner.userId, iss: 'semibot' }).setExpirationTime('1h').encode()}`,
      // signed with the real secret but not a user token, or no longer valid
      'vm token': `Bearer ${await sign(JWT_SECRET, { org: owner.orgId, typ: 'vm', inst: randomUUID() })}`,
      expired: `Bearer ${await sign(JWT_SECRET, claims, Math.floor(Date.now() / 1000) - 60)}`,
      'unknown api key': `Bearer sbk_${randomBytes(24).toString('base64url')}`,
    };
    for (const [what, authorization] of Object.entries(forged)) {
      for (const path of [`/sessions/${owner.sessionId}`, '/sessions', `/runs/${owner.runId}`]) {
        const r = await p.api('GET', path, { headers: authorization === undefined ? {} : { authorization } });
        expect({ what, path, status: r.status, code: r.body?.error?.code }).toEqual({ what, path, status: 401, code: 'UNAUTHORIZED' });
      }
    }
    const res = await fetch(`${p.url}/api/v1/sessions/${owner.sessionId}/events`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe('UNAUTHORIZED');
    // the real secret with the right claims does work (so the forgeries above failed for the right reason)
    const genuine = await p.api('GET', `/sessions/${owner.sessionId}`, { headers: { authorization: `Bearer ${await sign(JWT_SECRET)}` } });
    expect(genuine.status).toBe(200);
  });

  it('API keys act for their own org only', async () => {
    const key = await p.api('POST', '/api-keys', { token: other.token, body: { name: 'ci' } });
    expect(key.status).toBe(201);
    const auth = { authorization: `Bearer ${key.body.key}` };
    expect((await p.api('GET', '/sessions', { headers: auth })).body.data).toEqual([]);
    expect404(await p.api('GET', `/sessions/${owner.sessionId}`, { headers: auth }), 'API key GET session');
    expect404(await p.api('GET', `/runs/${owner.runId}`, { headers: auth }), 'API key GET run');
  });

  it('login with a wrong password → 401 INVALID_CREDENTIALS; a taken email → 409 EMAIL_TAKEN', async () => {
    const email = `tenant-${randomUUID()}@example.com`;
    const reg = await p.api('POST', '/auth/register', { body: { email, password: PASSWORD, name: 'T' } });
    expect(reg.status).toBe(201);
    for (const body of [
      { email, password: 'wrong password!' },
      { email: `nobody-${randomUUID()}@example.com`, password: PASSWORD },
    ]) {
      const r = await p.api('POST', '/auth/login', { body });
      expect({ status: r.status, code: r.body.error?.code, token: r.body.token }).toEqual({ status: 401, code: 'INVALID_CREDENTIALS', token: undefined });
    }
    const ok = await p.api('POST', '/auth/login', { body: { email, password: PASSWORD } });
    expect(ok.status).toBe(200);
    expect(ok.body.user.id).toBe(reg.body.user.id);
    expect((await p.api('GET', '/auth/me', { token: ok.body.token })).status).toBe(200);

    for (const again of [email, email.toUpperCase()]) {
      const dup = await p.api('POST', '/auth/register', { body: { email: again, password: 'another password' } });
      expect({ status: dup.status, code: dup.body.error?.code }).toEqual({ status: 409, code: 'EMAIL_TAKEN' });
    }
    // the failed duplicate did not change the password
    expect((await p.api('POST', '/auth/login', { body: { email, password: 'another password' } })).status).toBe(401);
  });
});
