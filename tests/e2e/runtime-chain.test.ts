import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, post, sendAndStream, startPlatform, textOf, waitFor, type Platform } from './harness.js';

/**
 * The runtime type chain (seed 000): session > agent > user > org > deployment default, each link
 * set through the API, resolved in GET /vm/status, and walked by every delivery (the one made at
 * submit time inside the database, and the one of a run that waited in the queue).
 *
 * The planes here run SemiGraph only (OpenClaw is pointed at a directory without it), so a turn
 * resolved to `openclaw` is refused by the plane by name: that is how the test sees which runtime a
 * delivery asked for. openclaw.test.ts runs the real one.
 */
describe('runtime type chain: session > agent > user > org > default', () => {
  let p: Platform;
  beforeAll(async () => {
    // the refusals are how the test sees the runtime: they must not trip the fallback to direct
    p = await startPlatform({ env: { SEMIBOT_OPENCLAW_DIR: '/nonexistent/openclaw', SEMIBOT_FALLBACK: 'off' } });
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  const resolved = async (token: string, query = '') => (await p.api('GET', `/vm/status${query}`, { token })).body.resolvedRuntime;
  const refusedAsOpenclaw = (frames: Awaited<ReturnType<typeof sendAndStream>>) => {
    expect(frames.at(-1)!.data).toMatchObject({ status: 'failed' });
    expect(frames.find((f) => f.event === 'error')!.data).toMatchObject({ code: 'RUNTIME_ERROR', message: expect.stringContaining("runtime 'openclaw'") });
  };

  it('GET /readyz says OpenClaw is not available here, and why', async () => {
    const r = await (await fetch(`${p.url}/readyz`)).json();
    expect(r).toMatchObject({ openclaw_available: false, runtimes: { semigraph: true, openclaw: expect.stringContaining('not installed') } });
  });

  it('resolves each link in order and delivers turns on the resolved runtime', async () => {
    const { token, agentId, sessionId } = await p.chat();
    // an agent made without a runtime inherits
    expect((await p.api('GET', `/agents/${agentId}`, { token })).body.runtimeType).toBeNull();
    expect(await resolved(token)).toEqual({ type: 'semigraph', from: 'default' });

    expect((await p.api('PATCH', '/org', { token, body: { defaultRuntimeType: 'openclaw' } })).body).toMatchObject({ defaultRuntimeType: 'openclaw' });
    expect(await resolved(token, `?sessionId=${sessionId}`)).toEqual({ type: 'openclaw', from: 'org' });
    refusedAsOpenclaw(await sendAndStream(p, token, sessionId, '/echo via the org'));

    expect((await p.api('PATCH', '/auth/me', { token, body: { runtimeType: 'semigraph' } })).body).toMatchObject({ runtimeType: 'semigraph' });
    expect(await resolved(token)).toEqual({ type: 'semigraph', from: 'user' });
    const viaUser = await sendAndStream(p, token, sessionId, '/echo via the user');
    expect(textOf(viaUser)).toBe('via the user');

    expect((await p.api('PATCH', `/agents/${agentId}`, { token, body: { runtimeType: 'openclaw' } })).body).toMatchObject({ runtimeType: 'openclaw' });
    expect(await resolved(token, `?agentId=${agentId}`)).toEqual({ type: 'openclaw', from: 'agent' });
    expect(await resolved(token)).toEqual({ type: 'semigraph', from: 'user' }); // no agent named: the user's
    refusedAsOpenclaw(await sendAndStream(p, token, sessionId, '/echo via the agent'));

    // a session's own choice wins over its agent's
    const own = (await p.api('POST', '/sessions', { token, body: { agentId, runtimeType: 'semigraph' } })).body;
    expect(own.runtimeType).toBe('semigraph');
    expect(await resolved(token, `?sessionId=${own.id}`)).toEqual({ type: 'semigraph', from: 'session' });
    expect(textOf(await sendAndStream(p, token, own.id, '/echo via the session'))).toBe('via the session');

    // null clears a link: the user's goes, the org's shows through again
    await p.api('PATCH', '/auth/me', { token, body: { runtimeType: null } });
    await p.api('PATCH', `/agents/${agentId}`, { token, body: { runtimeType: null } });
    expect(await resolved(token, `?sessionId=${sessionId}`)).toEqual({ type: 'openclaw', from: 'org' });
  });

  it('a queued run is delivered on the chain too', async () => {
    const { token, agentId, sessionId } = await p.chat();
    // the first runs on SemiGraph for a while; the agent moves to OpenClaw; the second, queued
    // behind the first meanwhile, is delivered from the queue on the agent's new runtime
    const first = (await post(p, token, sessionId, '/slow 10 100')).body.runId;
    await p.api('PATCH', `/agents/${agentId}`, { token, body: { runtimeType: 'openclaw' } });
    const second = (await post(p, token, sessionId, '/echo queued')).body.runId;
    const ended = (id: string) =>
      waitFor(async () => {
        const r = (await p.api('GET', `/runs/${id}`, { token })).body;
        return r.status === 'failed' || r.status === 'completed' ? r : null;
      });
    expect(await ended(first)).toMatchObject({ status: 'completed' });
    expect(await ended(second)).toMatchObject({ status: 'failed', error: { code: 'RUNTIME_ERROR', message: expect.stringContaining("runtime 'openclaw'") } });
  });

  it('bad settings get 400 and change nothing; another user\'s session is not read', async () => {
    const { token, sessionId } = await p.chat();
    await p.api('PATCH', '/auth/me', { token, body: { runtimeType: 'semigraph' } });
    for (const body of [{ runtimeType: 'pytorch' }, {}, { runtimeType: 'semigraph', extra: 1 }]) {
      const r = await p.api('PATCH', '/auth/me', { token, body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect((await p.api('PATCH', '/org', { token, body: { defaultRuntimeType: 'pytorch' } })).status).toBe(400);
    // as everywhere in the API, an id that cannot exist is not found
    expect((await p.api('GET', '/vm/status?sessionId=not-a-uuid', { token })).body.error.code).toBe('NOT_FOUND');
    expect((await p.api('GET', '/vm/status?planet=mars', { token })).status).toBe(400);
    expect(await resolved(token)).toEqual({ type: 'semigraph', from: 'user' });

    const other = await p.chat();
    const theirs = (await p.api('POST', '/sessions', { token: other.token, body: { agentId: other.agentId, runtimeType: 'openclaw' } })).body.id;
    // asking about someone else's session resolves as if none was named
    expect(await resolved(token, `?sessionId=${theirs}`)).toEqual({ type: 'semigraph', from: 'user' });
    expect(await resolved(token, `?sessionId=${sessionId}`)).toEqual({ type: 'semigraph', from: 'user' });
  });
});
