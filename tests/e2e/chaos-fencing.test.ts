import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@semibot/protocol';
import { WebSocket } from 'ws';
import { cleanupHome, follow, openEventsWith, post, sendAndStream, startPlatform, textOf, waitFor, waitRun, wsSession, type Platform } from './harness.js';
import { agentWithSession, framesOf, metric, planePid, processAlive } from './semigraph-helpers.js';
import {
  doneOf,
  environOf,
  dumpLogs,
  expectNoPlanesLeft,
  expectPlaneReady,
  expectSessionWhole,
  sleep,
  slowText,
  storedAnswers,
  timing,
  vmStatus,
} from './chaos-helpers.js';

/**
 * Chaos: credentials and fencing on /ws/vm, and a plane that hangs. A connect ticket works once;
 * events of an old attempt (a zombie) or of another user's session are ignored; a plane that stops
 * heartbeating is dropped with 4008 — and, frozen (SIGSTOP) for less than the reconnect grace, it
 * continues its run as the same attempt, frozen for longer, its run goes to a fresh plane.
 */
const HEARTBEAT_TIMEOUT_MS = 1_500;
const GRACE_MS = 3_000;

describe('chaos: tickets, stale attempts and hung planes', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform({
      env: {
        VM_HEARTBEAT_INTERVAL_MS: '300',
        VM_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
        VM_RECONNECT_GRACE_MS: String(GRACE_MS),
        VM_BOOTSTRAP_COOLDOWN_MS: '1000',
        RUN_MAX_ATTEMPTS: '4',
      },
    });
  });
  afterAll(async () => {
    dumpLogs(p, 'chaos-fencing');
    await p?.stop();
    if (p) {
      await expectNoPlanesLeft(p.home);
      cleanupHome(p);
    }
  });

  const auth = (token: string, ticket?: string) => JSON.stringify({ type: 'auth', token, ...(ticket ? { ticket } : {}), protocolVersion: PROTOCOL_VERSION });

  /** A plane impostor: authenticates with `token`, resolves once `init` came, records how it ended. */
  function impostor(token: string) {
    const ws = new WebSocket(`${p.url.replace(/^http/, 'ws')}/ws/vm`, { perMessageDeflate: false });
    const closed = new Promise<{ code: number; at: number }>((resolve) => ws.on('close', (code) => resolve({ code, at: Date.now() })));
    ws.on('error', () => {});
    const ready = new Promise<void>((resolve, reject) => {
      ws.on('open', () => ws.send(auth(token)));
      ws.on('message', (d) => {
        if (JSON.parse(d.toString()).type === 'init') resolve();
      });
      void closed.then((c) => reject(new Error(`impostor closed with ${c.code} before init`)));
    });
    return { ws, ready, closed, send: (msg: unknown) => ws.send(JSON.stringify(msg)) };
  }

  it('a replayed connect ticket is refused with 4001; the real plane is unaffected', async () => {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, {});
    expect((await sendAndStream(p, token, sessionId, '/echo first')).at(-1)!.data.status).toBe('completed');
    const before = await expectPlaneReady(p, token);
    const pid = planePid(p, userId)!;
    const env = environOf(pid);
    expect(env.SEMIBOT_CONNECT_TICKET).toBeTruthy();

    // the token is valid, the ticket was consumed by the plane's first connect
    const replay = await wsSession(p, (ws) => ws.send(auth(env.SEMIBOT_VM_TOKEN!, env.SEMIBOT_CONNECT_TICKET!)));
    expect([replay.code, replay.reason]).toEqual([4001, 'AUTH_FAILED']);
    // nor does a made-up ticket pass
    const forged = await wsSession(p, (ws) => ws.send(auth(env.SEMIBOT_VM_TOKEN!, 'x'.repeat(32))));
    expect(forged.code).toBe(4001);

    // the real plane never noticed: same process, same connection, and it answers
    expect(processAlive(pid)).toBe(true);
    const after = await expectPlaneReady(p, token);
    expect(after.connectedAt).toBe(before.connectedAt);
    const next = await sendAndStream(p, token, sessionId, '/echo still here');
    expect(textOf(next)).toBe('still here');
    expect(planePid(p, userId)).toBe(pid);
  });

  it("a zombie's events for an old attempt, and events for another user's session, are ignored", async () => {
    const a = await p.user();
    const b = await p.user();
    const sa = (await agentWithSession(p, a.token, {})).sessionId;
    const sb = (await agentWithSession(p, b.token, {})).sessionId;
    const liveA = await follow((s) => openEventsWith(p, a.token, sa, {}, s), { timeoutMs: 50_000 });
    const liveB = await follow((s) => openEventsWith(p, b.token, sb, {}, s), { timeoutMs: 50_000 });
    const staleBefore = await metric(p, 'semibot_runs_total', { state: 'staleEvents' });

    const runB = (await post(p, b.token, sb, '/slow 100 40')).body.runId;
    const runA = (await post(p, a.token, sa, '/slow 100 40')).body.runId;
    let n = 0;
    await liveA.next((f) => f.event === 'text' && ++n === 5, 15_000);
    process.kill(planePid(p, a.userId)!, 'SIGKILL');
    await liveA.next((f) => f.event === 'step_restart', 20_000);
    await liveA.next((f) => f.event === 'text' && liveA.frames.indexOf(f) > liveA.frames.findIndex((x) => x.event === 'step_restart'), 10_000);

    // the new plane's credential, used by someone else: it takes over the plane's socket (4409 for the
    // real plane, which reconnects) and then speaks for attempt 1 and for another user's run
    const fresh = environOf(planePid(p, a.userId)!);
    const zombie = impostor(fresh.SEMIBOT_VM_TOKEN!);
    await zombie.ready;
    const text = (runId: string, sessionId: string, attempt: number, seq: number, t: string) => ({
      type: 'sse_event',
      sessionId,
      runId,
      attempt,
      seq,
      event: { type: 'text', text: t, runId },
    });
    zombie.send(text(runA, sa, 1, 1, 'ZOMBIE'));
    zombie.send(text(runA, sa, 1, 500, 'ZOMBIE'));
    zombie.send({ type: 'sse_event', sessionId: sa, runId: runA, attempt: 1, seq: 2, event: { type: 'done', status: 'failed', runId: runA } });
    zombie.send(text(runB, sb, 1, 1, 'ZOMBIE-B'));
    zombie.send(text(runB, sb, 1, 500, 'ZOMBIE-B'));
    zombie.send({ type: 'sse_event', sessionId: sb, runId: runB, attempt: 1, seq: 501, event: { type: 'done', status: 'failed', runId: runB } });
    zombie.send(text(runA, sb, 2, 1, 'ZOMBIE-MIX')); // A's run under B's session
    // a batch frame is no loophole: each message in it is judged alone
    zombie.send({ type: 'batch', messages: [text(runA, sa, 1, 3, 'ZOMBIE-BATCH'), text(runB, sb, 1, 2, 'ZOMBIE-BATCH'), text(runA, sb, 2, 2, 'ZOMBIE-BATCH')] });
    // the real plane comes back and takes its socket over again
    const ended = await zombie.closed;
    expect(ended.code).toBe(4409);

    expect((await liveA.next(doneOf(runA), 30_000)).data.status).toBe('completed');
    expect((await liveB.next(doneOf(runB), 30_000)).data.status).toBe('completed');
    liveA.close();
    liveB.close();
    expect(await metric(p, 'semibot_runs_total', { state: 'staleEvents' })).toBeGreaterThanOrEqual(staleBefore + 10);

    const replayA = await expectSessionWhole(p, a.token, sa, liveA.frames, [{ runId: runA, expected: slowText(100) }]);
    const replayB = await expectSessionWhole(p, b.token, sb, liveB.frames, [{ runId: runB, expected: slowText(100) }]);
    for (const f of [...replayA, ...replayB]) expect(JSON.stringify(f.data)).not.toContain('ZOMBIE');
    expect((await storedAnswers(p, a.token, sa, runA))[0]).not.toContain('ZOMBIE');
    expect(await waitRun(p, b.token, runB)).toMatchObject({ status: 'completed', attempt: 1 });
    expect((await waitRun(p, a.token, runA)).attempt).toBeGreaterThanOrEqual(2);
    expect(framesOf(replayB, 'step_restart')).toEqual([]);
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
    await expectPlaneReady(p, a.token);
  });

  it('a batch frame that is empty, oversized or carries an auth frame is closed with 4400', async () => {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, {});
    expect((await sendAndStream(p, token, sessionId, '/echo warm')).at(-1)!.data.status).toBe('completed');
    const env = environOf(planePid(p, userId)!);
    const heartbeat = { type: 'heartbeat', activeSessions: 0, activeRuns: 0 };
    for (const messages of [[], Array.from({ length: 1001 }, () => heartbeat), [heartbeat, JSON.parse(auth(env.SEMIBOT_VM_TOKEN!))]]) {
      const bad = impostor(env.SEMIBOT_VM_TOKEN!);
      await bad.ready;
      bad.send({ type: 'batch', messages });
      expect((await bad.closed).code).toBe(4400);
    }
    // the real plane takes its socket back and serves the next turn
    await expectPlaneReady(p, token);
    expect(textOf(await sendAndStream(p, token, sessionId, '/echo after bad batches'))).toBe('after bad batches');
  });

  it('a connection that stops heartbeating is closed with 4008', async () => {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, {});
    await sendAndStream(p, token, sessionId, '/echo hi');
    const pid = planePid(p, userId)!;
    const env = environOf(pid);
    // freeze the real plane so it cannot take its socket back, and stand in for it without heartbeats
    process.kill(pid, 'SIGSTOP');
    try {
      const silent = impostor(env.SEMIBOT_VM_TOKEN!);
      await silent.ready;
      const t0 = Date.now();
      const { code, at } = await silent.closed;
      expect(code).toBe(4008);
      expect(at - t0).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_MS - 100);
      expect(at - t0).toBeLessThan(HEARTBEAT_TIMEOUT_MS + 1_500);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // thawed, the real plane reconnects and works
    await expectPlaneReady(p, token);
    expect(textOf(await sendAndStream(p, token, sessionId, '/echo thawed'))).toBe('thawed');
    expect(planePid(p, userId)).toBe(pid);
  });

  it('a plane frozen (SIGSTOP) for less than heartbeat timeout + grace continues its run as the same attempt', async () => {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, {});
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });
    const runId = (await post(p, token, sessionId, '/slow 80 25')).body.runId;
    await live.next((f) => f.event === 'text' && f.data.text === 'tok10 ', 15_000);
    const pid = planePid(p, userId)!;
    process.kill(pid, 'SIGSTOP');
    const t0 = Date.now();
    try {
      const down = await waitFor(async () => ((await vmStatus(p, token)).connected ? null : Date.now()), HEARTBEAT_TIMEOUT_MS + 2_000, 20);
      timing('frozen plane: freeze → dropped (heartbeat timeout)', down - t0);
      expect(await vmStatus(p, token)).toMatchObject({ connected: false });
      await sleep(Math.max(0, 2_500 - (Date.now() - t0)));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
    timing('frozen plane (2.5 s): freeze → done', Date.now() - t0);
    live.close();
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 1 });
    expect(framesOf(live.frames, 'step_restart')).toEqual([]);
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: slowText(80) }]);
    expect(planePid(p, userId)).toBe(pid);
    await expectPlaneReady(p, token);
  });

  it('a plane frozen for longer than heartbeat timeout + grace: its run goes to a fresh plane and the frozen one is killed', async () => {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, {});
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });
    const runId = (await post(p, token, sessionId, '/slow 80 25')).body.runId;
    await live.next((f) => f.event === 'text' && f.data.text === 'tok10 ', 15_000);
    const pid = planePid(p, userId)!;
    process.kill(pid, 'SIGSTOP');
    const t0 = Date.now();
    try {
      const restart = await live.next((f) => f.event === 'step_restart', HEARTBEAT_TIMEOUT_MS + GRACE_MS + 10_000);
      timing('frozen plane (for good): freeze → step_restart on a fresh plane', Date.now() - t0);
      expect(restart.data).toMatchObject({ runId, attempt: 2 });
      expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
      timing('frozen plane (for good): freeze → done', Date.now() - t0);
      // the scheduler got rid of the frozen process (SIGTERM cannot reach it; SIGKILL does)
      expect(processAlive(pid)).toBe(false);
    } finally {
      if (processAlive(pid)) process.kill(pid, 'SIGCONT');
    }
    live.close();
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 2 });
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: slowText(80) }]);
    expect(planePid(p, userId)).not.toBe(pid);
    await expectPlaneReady(p, token);
  });
});
