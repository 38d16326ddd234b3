import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@semibot/protocol';
import { cleanupHome, follow, openEventsWith, post, startPlatform, waitFor, waitRun, wsSession, type Follower, type Platform } from './harness.js';
import { agentWithSession, framesOf, metric, planePid, processAlive, startRemoteEverything, type RemoteMcp } from './semigraph-helpers.js';
import {
  doneOf,
  environOf,
  dumpLogs,
  expectNoPlanesLeft,
  expectPlaneReady,
  expectSessionWhole,
  sleep,
  slowText,
  startTcpProxy,
  timing,
  vmStatus,
  type TcpProxy,
} from './chaos-helpers.js';

/**
 * Chaos: the WebSocket between plane and control plane is cut while neither process dies. The
 * planes dial a TCP proxy in this test (SEMIBOT_PUBLIC_WS_URL), which destroys their sockets
 * (both sides, or only the plane's side — a half-open socket), or refuses connections for a
 * while. A plane that is back within VM_RECONNECT_GRACE_MS continues the SAME attempt and the
 * client gets every token exactly once; one that is not has its run re-delivered. Plane tokens
 * live 4 s here, so reconnects after that work only with the token renewed over the socket.
 */
const GRACE_MS = 3_000;
const HEARTBEAT_TIMEOUT_MS = 1_500;

describe('chaos: plane socket cut (both processes live)', () => {
  let p: Platform;
  let proxy: TcpProxy;
  let remote: RemoteMcp;
  beforeAll(async () => {
    proxy = await startTcpProxy();
    [p, remote] = await Promise.all([
      startPlatform({
        env: {
          SEMIBOT_PUBLIC_WS_URL: proxy.wsUrl,
          VM_HEARTBEAT_INTERVAL_MS: '300',
          VM_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
          VM_RECONNECT_GRACE_MS: String(GRACE_MS),
          VM_BOOTSTRAP_COOLDOWN_MS: '1000',
          VM_TOKEN_TTL_S: '4',
        },
      }),
      startRemoteEverything(),
    ]);
    proxy.target = Number(new URL(p.url).port);
  });
  afterAll(async () => {
    dumpLogs(p, 'chaos-socket');
    // prompt even though plane sockets were left half-open (the proxy still holds them)
    const t0 = Date.now();
    await p?.stop();
    expect(Date.now() - t0).toBeLessThan(10_000);
    await proxy?.close();
    await remote?.stop();
    if (p) {
      await expectNoPlanesLeft(p.home);
      cleanupHome(p);
    }
  });

  async function setup(fields: Record<string, unknown> = {}) {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, fields);
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });
    return { token, userId, sessionId, live };
  }
  const textCount = (live: Follower, runId: string) => live.frames.filter((f) => f.event === 'text' && f.data.runId === runId).length;
  const nthText = (live: Follower, runId: string, n: number, timeoutMs = 15_000) =>
    live.next((f) => f.event === 'text' && f.data.runId === runId && f.data.text === `tok${n} `, timeoutMs);

  /** After a cut at `t0`: when the plane was back (proxy accept) and when the client's next text came. */
  async function timeRecovery(what: string, live: Follower, runId: string, t0: number) {
    const seen = textCount(live, runId);
    const back = await proxy.nextAccept(t0, 10_000);
    timing(`${what}: cut → plane reconnected`, back - t0);
    await live.next((f) => f.event === 'text' && f.data.runId === runId && live.frames.filter((x) => x.event === 'text' && x.data.runId === runId).indexOf(f) >= seen, 10_000);
    timing(`${what}: cut → next text event`, Date.now() - t0);
    return back - t0;
  }

  it('both sides cut mid-stream: the plane dials again at once (not after a backoff second), the same attempt continues, every token arrives once', async () => {
    const { token, userId, sessionId, live } = await setup();
    const sent = await post(p, token, sessionId, '/slow 80 25');
    const runId = sent.body.runId;
    await nthText(live, runId, 10);
    const pid = planePid(p, userId)!;
    const { instanceId } = await vmStatus(p, token);
    const t0 = Date.now();
    expect(proxy.cut(instanceId!)).toBe(1);
    // its first try comes within 250 ms (the backoff's first step, 0.8-1.2 s, only after a failed try)
    expect(await timeRecovery('full cut', live, runId, t0)).toBeLessThan(750);
    expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
    live.close();
    expect(Date.now() - t0).toBeLessThan(GRACE_MS + 3_000);

    expect(framesOf(live.frames, 'step_restart')).toEqual([]);
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 1 });
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: slowText(80) }]);
    // every token exactly once, in order, straight from the stream (no client rule needed)
    expect(framesOf(live.frames, 'text').map((f) => f.data.text)).toEqual(slowText(80).match(/\S+ /g));
    expect(planePid(p, userId)).toBe(pid); // the same process, never restarted
    await expectPlaneReady(p, token);
  });

  it('a half-open socket (the plane saw it die, the control plane did not): the reconnect takes over, the same attempt continues', async () => {
    const { token, userId, sessionId, live } = await setup();
    const sent = await post(p, token, sessionId, '/slow 80 25');
    const runId = sent.body.runId;
    await nthText(live, runId, 10);
    const pid = planePid(p, userId)!;
    const { instanceId } = await vmStatus(p, token);
    const { upstreams, at } = proxy.halfOpen(instanceId!);
    expect(upstreams).toHaveLength(1);
    await timeRecovery('half-open cut', live, runId, at);
    expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
    live.close();

    expect(framesOf(live.frames, 'step_restart')).toEqual([]);
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 1 });
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: slowText(80) }]);
    expect(framesOf(live.frames, 'text').map((f) => f.data.text)).toEqual(slowText(80).match(/\S+ /g));
    expect(planePid(p, userId)).toBe(pid);
    await expectPlaneReady(p, token);
  });

  it('a silent socket and connections refused for longer than heartbeat timeout + grace: the run is re-delivered (attempt 2) and completes whole', async () => {
    const { token, userId, sessionId, live } = await setup();
    const sent = await post(p, token, sessionId, '/slow 80 25');
    const queued = await post(p, token, sessionId, '/echo queued behind the outage');
    const runId = sent.body.runId;
    await nthText(live, runId, 10);
    const pid = planePid(p, userId)!;
    const { instanceId } = await vmStatus(p, token);
    // a silent socket this time: the control plane learns of the loss only from missing heartbeats
    proxy.refuse();
    const t0 = Date.now();
    expect(proxy.halfOpen(instanceId!).upstreams).toHaveLength(1);
    // while refused: the plane is not connected, and /vm/status says so
    const during = await waitFor(async () => {
      const st = await p.api('GET', '/vm/status', { token });
      return st.body.connected === false && st.body.state !== 'ready' ? st.body : null;
    }, 3_000, 20);
    expect(['disconnected', 'provisioning']).toContain(during.state);
    // heartbeat timeout (1.5 s) + grace (3 s): then the run goes to a fresh plane
    await waitFor(async () => ((await p.api('GET', `/runs/${runId}`, { token })).body.attempt === 2 ? true : null), HEARTBEAT_TIMEOUT_MS + GRACE_MS + 2_000, 50);
    timing('silent socket, refused: cut → re-delivered (attempt 2)', Date.now() - t0);
    await sleep(300);
    // the grace ran out: the run went to a fresh plane, which cannot connect yet — nothing new reached the client
    expect(framesOf(live.frames, 'step_restart')).toEqual([]);
    expect((await p.api('GET', '/vm/status', { token })).body).toMatchObject({ state: 'provisioning', connected: false });
    await proxy.accept();
    const restart = await live.next((f) => f.event === 'step_restart', 15_000);
    timing('refused > grace: cut → step_restart on the new attempt', Date.now() - t0);
    expect(restart.data).toMatchObject({ runId, textLength: 0, attempt: 2 });
    expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
    timing('refused > grace: cut → done', Date.now() - t0);
    await live.next(doneOf(queued.body.runId), 10_000);
    live.close();

    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 2 });
    await expectSessionWhole(p, token, sessionId, live.frames, [
      { runId, expected: slowText(80) },
      { runId: queued.body.runId, expected: 'queued behind the outage' },
    ]);
    // the plane that could not come back was replaced by a new process
    await waitFor(async () => !processAlive(pid), 5_000);
    expect(planePid(p, userId)).not.toBe(pid);
    await expectPlaneReady(p, token);
  });

  it('VM token renewal: a plane running past its 4 s token lifetime reconnects after a cut with the renewed token, same attempt', async () => {
    const { token, userId, sessionId, live } = await setup();
    const pid = planePid(p, userId) ?? null;
    expect(pid).toBeNull(); // a new user: the plane starts with this message, its token issued now
    const sent = await post(p, token, sessionId, '/slow 180 40'); // ~7 s
    const runId = sent.body.runId;
    await nthText(live, runId, 1);
    const started = Date.now();
    const plane = planePid(p, userId)!;
    const original = environOf(plane).SEMIBOT_VM_TOKEN!;
    // past the original token's expiry (4 s; renewed every 2 s over the socket)
    await nthText(live, runId, 150, 15_000);
    expect(Date.now() - started).toBeGreaterThan(5_000);
    const { instanceId } = await vmStatus(p, token);
    const t0 = Date.now();
    expect(proxy.cut(instanceId!)).toBe(1);
    await timeRecovery('cut after the token expired', live, runId, t0);
    expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
    live.close();
    expect(framesOf(live.frames, 'step_restart')).toEqual([]);
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 1 });
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: slowText(180) }]);
    expect(planePid(p, userId)).toBe(plane);
    // the token the plane was started with really is dead: presented now, it is refused
    const outcome = await wsSession(p, (ws) => ws.send(JSON.stringify({ type: 'auth', token: original, protocolVersion: PROTOCOL_VERSION })));
    expect(outcome.code).toBe(4001);
    await expectPlaneReady(p, token);
  });

  /** server-everything over streamable HTTP, called by the control plane for the plane (a `request`). */
  async function remoteSession() {
    const { token } = await p.user();
    const server = await p.api('POST', '/mcp-servers', { token, body: { name: 'remote', transport: 'streamable_http', url: remote.url } });
    expect(server.status).toBe(201);
    const { sessionId } = await agentWithSession(p, token, { mcpServerIds: [server.body.id] });
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });
    return { token, sessionId, live };
  }
  const longOp = (seconds: number) => `/tool mcp__remote__trigger-long-running-operation {"duration":${seconds},"steps":1}`;
  const longOpText = (seconds: number) => `Long running operation completed. Duration: ${seconds} seconds, Steps: 1.`;
  /** the control plane → plane traffic of connections accepted after `t` (sniffed by the proxy) */
  const downstreamAfter = (t: number) => proxy.accepted.map((at, i) => (at > t ? proxy.downstream[i]! : '')).join('');

  it('a remote MCP call in flight across a reconnect: its result is sent on the new socket, once', async () => {
    const { token, sessionId, live } = await remoteSession();
    const sent = await post(p, token, sessionId, longOp(3));
    const runId = sent.body.runId;
    await live.next((f) => f.event === 'mcp_call' && f.data.runId === runId, 15_000);
    const { instanceId } = await vmStatus(p, token);
    const t0 = Date.now();
    expect(proxy.cut(instanceId!)).toBe(1);
    const back = await proxy.nextAccept(t0);
    timing('request in flight: cut → plane reconnected', back - t0);
    const result = await live.next((f) => f.event === 'mcp_result' && f.data.runId === runId, 15_000);
    timing('request in flight: cut → mcp_result', Date.now() - t0);
    expect(result.data).toMatchObject({ isError: false, result: [{ type: 'text', text: longOpText(3) }] });
    expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
    live.close();
    // the plane asked (resume) while the call was still running: nothing to report yet; the response followed
    const after = downstreamAfter(t0);
    expect(after).toContain('"type":"resume_response","results":[]');
    expect(after).toContain('"type":"response"');
    expect(framesOf(live.frames, 'mcp_call')).toHaveLength(1);
    expect(framesOf(live.frames, 'step_restart')).toEqual([]);
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 1 });
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: `Tool result: ${longOpText(3)}` }]);
  });

  it('a remote MCP call that finished while the plane was away: resume_response hands over the cached result', async () => {
    const { token, sessionId, live } = await remoteSession();
    const hitsBefore = await metric(p, 'semibot_request_cache_hits_total');
    const sent = await post(p, token, sessionId, longOp(0.3));
    const runId = sent.body.runId;
    await live.next((f) => f.event === 'mcp_call' && f.data.runId === runId, 15_000);
    const { instanceId } = await vmStatus(p, token);
    // the plane's first try after a lost connection comes within 250 ms: refused here until the
    // call (~0.3 s) has ended, so the plane is away for it and back ~1 s later (its next try)
    proxy.refuse();
    const t0 = Date.now();
    expect(proxy.cut(instanceId!)).toBe(1);
    setTimeout(() => void proxy.accept(), 600);
    const result = await live.next((f) => f.event === 'mcp_result' && f.data.runId === runId, 15_000);
    timing('request finished while away: cut → mcp_result', Date.now() - t0);
    expect(result.data).toMatchObject({ isError: false, result: [{ type: 'text', text: longOpText(0.3) }] });
    expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
    live.close();
    const after = downstreamAfter(t0);
    expect(after).toMatch(/"type":"resume_response","results":\[\{"requestId":"[^"]+","status":"completed"/);
    expect(await metric(p, 'semibot_request_cache_hits_total')).toBe(hitsBefore + 1);
    expect(framesOf(live.frames, 'mcp_call')).toHaveLength(1);
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 1 });
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: `Tool result: ${longOpText(0.3)}` }]);
  });
});
