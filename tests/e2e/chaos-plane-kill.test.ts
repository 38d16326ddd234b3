import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, follow, openEventsWith, post, startPlatform, waitFor, waitRun, type Platform, type SseFrame } from './harness.js';
import { agentWithSession, childrenOf, everythingMain, framesOf, metric, planeHome, planePid, processAlive, skillMd, tarOf, uploadArchive } from './semigraph-helpers.js';
import {
  clientText,
  count,
  doneOf,
  dumpLogs,
  expectNoPlanesLeft,
  expectPlaneReady,
  expectSessionWhole,
  planesUnder,
  slowText,
  startTcpProxy,
  timing,
  vmStatus,
  type TcpProxy,
} from './chaos-helpers.js';

/**
 * Chaos: the execution plane is killed with SIGKILL — while the model streams its first answer
 * (before any checkpoint), during an MCP call, while a skill package is being fetched, and while
 * idle. Every run reaches `done`, acknowledged messages queued behind it run, the client's ids
 * are contiguous and match a replay, the stored answer is whole, and /vm/status tells the truth.
 * Planes dial in through a proxy so a skill fetch can be slowed down enough to kill it mid-way.
 */
describe('chaos: execution plane killed (SIGKILL)', () => {
  let p: Platform;
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy();
    p = await startPlatform({
      env: {
        SEMIBOT_PUBLIC_WS_URL: proxy.wsUrl,
        VM_HEARTBEAT_INTERVAL_MS: '300',
        VM_HEARTBEAT_TIMEOUT_MS: '1500',
        VM_RECONNECT_GRACE_MS: '3000',
        VM_BOOTSTRAP_COOLDOWN_MS: '1000',
      },
    });
    proxy.target = Number(new URL(p.url).port);
  });
  afterAll(async () => {
    dumpLogs(p, 'chaos-plane-kill');
    await p?.stop();
    await proxy?.close();
    if (p) {
      await expectNoPlanesLeft(p.home);
      cleanupHome(p);
    }
  });

  /** A user with a session (agent fields as given) and a live follower of the session's events. */
  async function setup(fields: Record<string, unknown> = {}) {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, fields);
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });
    return { token, userId, sessionId, live };
  }

  /** Kills the user's plane and reports how long until the client's next event and the run's `done`. */
  async function killAndTime(userId: string, live: { frames: SseFrame[]; next: (pred: (f: SseFrame) => boolean, t?: number) => Promise<SseFrame> }, runId: string, what: string) {
    const pid = planePid(p, userId);
    expect(pid).not.toBeNull();
    const seen = live.frames.length;
    const t0 = Date.now();
    process.kill(pid!, 'SIGKILL');
    const next = await live.next((f) => live.frames.indexOf(f) >= seen, 20_000);
    timing(`${what}: kill → next event (${next.event})`, Date.now() - t0);
    const done = await live.next(doneOf(runId), 30_000);
    timing(`${what}: kill → done`, Date.now() - t0);
    expect(processAlive(pid!)).toBe(false);
    return { pid: pid!, done };
  }

  it('during the first model stream (no checkpoint yet): the new attempt restarts the text, a queued message still runs, the answer is whole', async () => {
    const { token, userId, sessionId, live } = await setup();
    const first = await post(p, token, sessionId, '/slow 60 25');
    const queued = await post(p, token, sessionId, '/echo queued behind the crash');
    expect([first.status, queued.status]).toEqual([202, 202]);
    const runId = first.body.runId;
    let texts = 0;
    await live.next((f) => f.event === 'text' && f.data.runId === runId && ++texts === 5, 15_000);

    const { done } = await killAndTime(userId, live, runId, 'first stream');
    expect(done.data.status).toBe('completed');
    await live.next(doneOf(queued.body.runId), 15_000);
    live.close();

    const restart = framesOf(live.frames, 'step_restart');
    expect(restart.map((f) => f.data)).toEqual([expect.objectContaining({ runId, textLength: 0, attempt: 2 })]);
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 2 });
    expect(await waitRun(p, token, queued.body.runId)).toMatchObject({ status: 'completed', attempt: 1 });
    await expectSessionWhole(p, token, sessionId, live.frames, [
      { runId, expected: slowText(60) },
      { runId: queued.body.runId, expected: 'queued behind the crash' },
    ]);
    await expectPlaneReady(p, token);
  });

  it('during a stdio MCP call (server-everything trigger-long-running-operation): its server dies with the plane, the call is made again, one result', async () => {
    const { token, userId } = await p.user();
    const server = await p.api('POST', '/mcp-servers', {
      token,
      body: { name: 'everything', transport: 'stdio', command: process.execPath, args: [everythingMain, 'stdio'] },
    });
    expect(server.status).toBe(201);
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: [server.body.id] });
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });

    const sent = await post(p, token, sessionId, '/tool mcp__everything__trigger-long-running-operation {"duration":1.5,"steps":3}');
    expect(sent.status).toBe(202);
    const runId = sent.body.runId;
    await live.next((f) => f.event === 'mcp_call', 15_000);
    const plane = planePid(p, userId)!;
    const servers = childrenOf(plane).filter((c) => c.cmdline.includes('server-everything'));
    expect(servers).toHaveLength(1);

    const { done } = await killAndTime(userId, live, runId, 'MCP call');
    expect(done.data.status).toBe('completed');
    live.close();
    // the killed plane's MCP server does not outlive it
    await waitFor(async () => !processAlive(servers[0]!.pid), 5_000);

    const frames = live.frames.filter((f) => f.data.runId === runId);
    expect(framesOf(frames, 'step_restart').map((f) => f.data)).toEqual([expect.objectContaining({ stepId: '0:act', textLength: 0, attempt: 2 })]);
    const calls = framesOf(frames, 'mcp_call');
    expect(calls).toHaveLength(2); // the interrupted call, then the same call on the new plane
    expect(new Set(calls.map((c) => c.data.callId)).size).toBe(1);
    const results = framesOf(frames, 'mcp_result');
    expect(results).toHaveLength(1);
    expect(results[0]!.data).toMatchObject({ isError: false, result: [{ type: 'text', text: 'Long running operation completed. Duration: 1.5 seconds, Steps: 3.' }] });
    const expected = 'Tool result: Long running operation completed. Duration: 1.5 seconds, Steps: 3.';
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected }]);
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 2 });
    await expectPlaneReady(p, token);
  });

  it('while a skill package (~2 MB) is being fetched: no half-written skill is cached, the new plane fetches it whole and runs it', async () => {
    const { token, userId } = await p.user();
    const data = randomBytes(1_500_000).toString('base64'); // 2 MB of text, ~2.7 MB on the wire
    const digest = createHash('sha256').update(data).digest('hex');
    const tgz = gzipSync(
      tarOf([
        { name: 'bulky/SKILL.md', content: skillMd('name: bulky\ndescription: A large skill') },
        { name: 'bulky/data.txt', content: data },
        { name: 'bulky/scripts/check.sh', content: '#!/bin/sh\nsha256sum "$SKILL_DIR/data.txt" | cut -c1-64\n', mode: 0o755 },
      ]),
    );
    const up = await uploadArchive(p, token, tgz, 'application/gzip');
    expect(up.status).toBe(201);
    const { sessionId } = await agentWithSession(p, token, { skillIds: [up.body.id] });
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });
    const fetchesBefore = await metric(p, 'semibot_plane_requests_total', { method: 'get_skill_package' });

    proxy.throttle(1_000_000); // control plane → plane at 1 MB/s: the fetch takes ~3 s
    try {
      const sent = await post(p, token, sessionId, '/tool use_skill {"skill":"bulky","script":"scripts/check.sh"}');
      const runId = sent.body.runId;
      await live.next((f) => f.event === 'skill_call', 15_000);
      await waitFor(async () => (await metric(p, 'semibot_plane_requests_total', { method: 'get_skill_package' })) > fetchesBefore, 5_000, 20);
      const pid = planePid(p, userId)!;
      process.kill(pid, 'SIGKILL');
      const t0 = Date.now();
      proxy.throttle(null);
      // killed mid-fetch: nothing is cached under the skill's hash
      await waitFor(async () => !processAlive(pid), 5_000);
      expect(existsSync(path.join(planeHome(p, userId), 'skill-cache', up.body.hash))).toBe(false);
      const next = await live.next((f) => f.event === 'step_restart', 20_000);
      timing('skill fetch: kill → next event (step_restart)', Date.now() - t0);
      expect(next.data).toMatchObject({ stepId: '0:act', textLength: 0, attempt: 2 });
      expect((await live.next(doneOf(runId), 30_000)).data.status).toBe('completed');
      timing('skill fetch: kill → done', Date.now() - t0);
      live.close();

      const frames = live.frames.filter((f) => f.data.runId === runId);
      expect(framesOf(frames, 'skill_call')).toHaveLength(2);
      const results = framesOf(frames, 'skill_result');
      expect(results).toHaveLength(1);
      expect(results[0]!.data).toMatchObject({ isError: false, result: { exitCode: 0, stdout: `${digest}\n` } });
      await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: `Tool result: ${digest}\n` }]);
      // fetched once per attempt: the killed one, and the new plane's whole copy
      expect(await metric(p, 'semibot_plane_requests_total', { method: 'get_skill_package' })).toBe(fetchesBefore + 2);
      expect(existsSync(path.join(planeHome(p, userId), 'skill-cache', up.body.hash, 'data.txt'))).toBe(true);
      await expectPlaneReady(p, token);
    } finally {
      proxy.throttle(null);
    }
  });

  it('while idle: /vm/status says disconnected, the next message starts a fresh plane that answers with the history intact', async () => {
    const { token, userId, sessionId, live } = await setup();
    const first = await post(p, token, sessionId, '/echo before the kill');
    await live.next(doneOf(first.body.runId), 15_000);
    const before = await expectPlaneReady(p, token);
    const pid = planePid(p, userId)!;
    process.kill(pid, 'SIGKILL');
    const t0 = Date.now();
    const down = await waitFor(async () => {
      const s = await vmStatus(p, token);
      return !s.connected && s.state === 'disconnected' ? s : null;
    }, 5_000, 20);
    timing('idle kill → /vm/status disconnected', Date.now() - t0);
    expect(down).toMatchObject({ instanceId: before.instanceId, state: 'disconnected', connected: false, activeRuns: 0 });
    expect(processAlive(pid)).toBe(false);
    // nothing is started until there is work
    await new Promise((r) => setTimeout(r, 500));
    expect(planePid(p, userId)).toBeNull();

    const t1 = Date.now();
    const second = await post(p, token, sessionId, '/echo after the kill');
    expect((await live.next(doneOf(second.body.runId), 20_000)).data.status).toBe('completed');
    timing('idle kill: next message → done on a fresh plane', Date.now() - t1);
    live.close();
    const after = await expectPlaneReady(p, token);
    expect(Date.parse(after.connectedAt!)).toBeGreaterThan(Date.parse(before.connectedAt!));
    const newPid = planePid(p, userId);
    expect(newPid).not.toBeNull();
    expect(newPid).not.toBe(pid);
    expect(planesUnder(p.home)).toContain(newPid); // the scan the after-all check relies on does see planes
    await expectSessionWhole(p, token, sessionId, live.frames, [
      { runId: first.body.runId, expected: 'before the kill' },
      { runId: second.body.runId, expected: 'after the kill' },
    ]);
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => m.content)).toEqual(['/echo before the kill', 'before the kill', '/echo after the kill', 'after the kill']);
    expect(count(clientText(live.frames), 'after the kill')).toBe(1);
  });
});
