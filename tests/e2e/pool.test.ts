import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { daemonEntry } from '@semibot/runtime';
import { PROTOCOL_VERSION } from '@semibot/protocol';
import { childPlanes, cleanupHome, clientText, mintPoolToken, follow, openEvents, post, sendAndStream, slowText, startPlatform, waitFor, waitRun, wsSession, type Platform } from './harness.js';

const JWT_SECRET = 'pool-test-secret-0123456789abcdef';


interface PoolPlane {
  instanceId: string;
  token: string;
  child: ChildProcess;
  logs: string[];
}

// One control plane running the shared pool `shared`, and two pool planes the operator started
// (sharing one disk, as pool workers on a shared volume do).
describe('shared worker pool vs dedicated planes', () => {
  let p: Platform;
  const planes: PoolPlane[] = [];
  const poolHome = mkdtempSync(path.join(tmpdir(), 'semibot-pool-'));
  const mint = (pool = 'shared') => mintPoolToken(pool, JWT_SECRET, poolHome);
  function startPoolPlane(): PoolPlane {
    const token = mint();
    const logs: string[] = [];
    const child = spawn(process.execPath, [daemonEntry], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SEMIBOT_CONTROL_URL: `${p.url.replace(/^http/, 'ws')}/ws/vm`, SEMIBOT_VM_TOKEN: token, SEMIBOT_HOME: poolHome, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => logs.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
    const plane = { instanceId: decodeJwt(token).sub!, token, child, logs };
    planes.push(plane);
    return plane;
  }

  beforeAll(async () => {
    p = await startPlatform({ env: { SEMIBOT_PLANE_POOL: 'shared', JWT_SECRET, VM_RECONNECT_GRACE_MS: '1000' } });
    startPoolPlane();
    startPoolPlane();
    await waitFor(async () => planes.every((pl) => pl.logs.join('').includes('connected to control plane')));
  });
  afterAll(async () => {
    for (const pl of planes) pl.child.kill('SIGKILL');
    await p?.stop();
    if (p) cleanupHome(p);
    rmSync(poolHome, { recursive: true, force: true });
  });

  it("ordinary orgs' sessions run on the pool's planes: two tenants at once, no plane of their own, no crosstalk", async () => {
    const [a, b] = [await p.chat(), await p.chat()];
    const [fa, fb] = await Promise.all([sendAndStream(p, a.token, a.sessionId, 'alpha'), sendAndStream(p, b.token, b.sessionId, 'bravo')]);
    expect(clientText(fa)).toBe('You said: alpha');
    expect(clientText(fb)).toBe('You said: bravo');
    expect(childPlanes(p)).toEqual([]);
    const status = await p.api('GET', '/vm/status', { token: a.token });
    expect(status.body).toMatchObject({ placement: 'pool', connected: true, instanceId: null, state: 'ready' });
    expect((await p.api('GET', '/org', { token: a.token })).body).toMatchObject({ dedicatedPlanes: false });
  });

  it('an org marked dedicated gets a plane of its own; only a boolean is accepted', async () => {
    const { token, sessionId } = await p.chat();
    expect((await p.api('PATCH', '/org', { token, body: { dedicatedPlanes: 'yes' } })).status).toBe(400);
    expect((await p.api('PATCH', '/org', { token, body: { dedicatedPlanes: true } })).body).toMatchObject({ dedicatedPlanes: true });
    const frames = await sendAndStream(p, token, sessionId, 'mine alone');
    expect(clientText(frames)).toBe('You said: mine alone');
    expect(childPlanes(p)).toHaveLength(1);
    expect((await p.api('GET', '/vm/status', { token })).body).toMatchObject({ placement: 'dedicated', connected: true, mode: 'process' });
    // back to the pool: the next turn runs there again
    await p.api('PATCH', '/org', { token, body: { dedicatedPlanes: false } });
    expect((await p.api('GET', '/vm/status', { token })).body).toMatchObject({ placement: 'pool' });
  });

  it("a pool plane's credential reaches only the sessions assigned to it", async () => {
    const victim = await p.chat();
    await sendAndStream(p, victim.token, victim.sessionId, 'secret history');
    const rogue = mint();
    const replies: Record<string, unknown>[] = [];
    const outcome = await wsSession(p, (ws) => {
      ws.on('message', (d) => {
        const msg = JSON.parse(d.toString()) as Record<string, unknown>;
        if (msg.type === 'init') {
          ws.send(JSON.stringify({ type: 'request', requestId: 'h', method: 'get_history', params: { sessionId: victim.sessionId } }));
          ws.send(JSON.stringify({ type: 'request', requestId: 'm', method: 'memory_search', params: { query: 'secret', sessionId: victim.sessionId } }));
          ws.send(JSON.stringify({ type: 'request', requestId: 'n', method: 'memory_search', params: { query: 'secret' } }));
        }
        if (msg.type === 'response') replies.push(msg);
        if (replies.length === 3) ws.close(1000);
      });
      ws.send(JSON.stringify({ type: 'auth', token: rogue, protocolVersion: PROTOCOL_VERSION }));
    });
    expect(outcome.code).toBe(1000);
    const byId = Object.fromEntries(replies.map((r) => [r.requestId, r]));
    expect(byId.h).toMatchObject({ ok: false, error: { code: 'UNKNOWN_SESSION' } });
    expect(byId.m).toMatchObject({ ok: false, error: { code: 'UNKNOWN_SESSION' } });
    expect(byId.n).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } });
    // a credential of another pool is refused outright
    const other = await wsSession(p, (ws) => ws.send(JSON.stringify({ type: 'auth', token: mint('elsewhere'), protocolVersion: PROTOCOL_VERSION })));
    expect(other.code).toBe(4001);
  });

  it('kill -9 of the pool plane running a turn: the run resumes on the other pool plane, one done, the whole answer', async () => {
    const { token, sessionId } = await p.chat();
    const warm = await sendAndStream(p, token, sessionId, 'warm');
    const started = await post(p, token, sessionId, '/slow 30 60');
    const events = await follow((signal) => openEvents(p, token, sessionId, warm.at(-1)!.id!, signal), { stopWhen: (f) => f.event === 'done' });
    await events.next((f) => f.event === 'text' && f.data.text === 'tok5 ');
    const running = await waitFor(async () => planes.find((pl) => pl.child.exitCode === null && pl.logs.join('').includes(started.body.runId)) ?? null);
    running.child.kill('SIGKILL');
    const frames = await events.finished;
    expect(frames.filter((f) => f.event === 'done')).toHaveLength(1);
    expect(frames.at(-1)?.data).toMatchObject({ type: 'done', status: 'completed' });
    expect(clientText(frames)).toBe(slowText(30));
    expect((await waitRun(p, token, started.body.runId)).status).toBe('completed');
    expect(childPlanes(p)).toHaveLength(1); // the dedicated org's plane from before; the pool needed none
  }, 60_000);
});
