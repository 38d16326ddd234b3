import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonEntry } from '@semibot/runtime';
import { decodeJwt } from 'jose';
import { clientText, follow, mintPoolToken, openEvents, post, postStream, readSse, slowText, strictlyIncreasing, waitFor, waitRun, type Follower, type Platform, type SseFrame } from './harness.js';
import { haUnavailable, startHaCluster, type HaCluster } from './ha-cluster.js';


/** Follows a session's events, and whenever the connection drops, resumes through `via` with Last-Event-ID until `done` of runId. */
async function followToDone(first: Platform, via: Platform, token: string, sessionId: string, runId: string, afterId: number) {
  const frames: SseFrame[] = [];
  let reconnects = 0;
  let target = first;
  const isDone = (f: SseFrame) => f.event === 'done' && f.data.runId === runId;
  const end = Date.now() + 40_000;
  while (!frames.some(isDone) && Date.now() < end) {
    const last = frames.at(-1)?.id ?? afterId;
    const f: Follower | null = await follow((signal) => openEvents(target, token, sessionId, last, signal), { stopWhen: isDone }).catch(() => null);
    if (f) frames.push(...(await f.finished));
    else await new Promise((r) => setTimeout(r, 200));
    target = via;
    if (!frames.some(isDone)) reconnects++;
  }
  return { frames, reconnects };
}

/** A user's session warmed by one turn through the balancer, then a `/slow n 60` run started: who drives it. */
async function startSlowRun(ha: HaCluster, n: number) {
  const { token, sessionId } = await ha.lb.chat();
  const warm = await readSse(await postStream(ha.lb, token, sessionId, 'warm up'), { until: (f) => f.event === 'done' });
  expect(warm.at(-1)?.data).toMatchObject({ status: 'completed' });
  const runId = (await post(ha.lb, token, sessionId, `/slow ${n} 60`)).body.runId as string;
  const driver = (await waitFor(async () => {
    const i = await ha.driverOf(runId);
    return i >= 0 ? i + 1 : null;
  })) - 1;
  return { token, sessionId, warm, runId, driver };
}

describe.skipIf(haUnavailable)('HA: three replicas behind haproxy, on PostgreSQL and Redis', () => {
  let ha: HaCluster;
  beforeAll(async () => {
    ha = await startHaCluster();
  }, 120_000);
  afterAll(async () => ha?.close());

  it('a run posted on one replica is driven where the plane is and streams on every replica, gap-free', async () => {
    const [r0, r1, r2] = ha.replicas as [Platform, Platform, Platform];
    const { token, sessionId } = await r0.chat();
    // the first turn starts the user's plane on r0, which hosts it from now on
    const firstRes = await postStream(r0, token, sessionId, 'hello');
    const first = await readSse(firstRes, { until: (f) => f.event === 'done' });
    expect(first.at(-1)?.data.status).toBe('completed');

    // a second message arrives at r1: r1 routes it to r0 over the bus and streams it from the shared tail
    const watcher = await follow((signal) => openEvents(r2, token, sessionId, first.at(-1)!.id!, signal), { stopWhen: (f) => f.event === 'done' });
    const res = await postStream(r1, token, sessionId, '/slow 30 15');
    expect(res.status).toBe(200);
    const runId = res.headers.get('x-run-id')!;
    let driver: Promise<number> | null = null;
    const streamed = await readSse(res, { until: (f) => f.event === 'done', onFrame: (f) => void (f.event === 'text' && (driver ??= ha.driverOf(runId))) });
    expect(await driver).toBe(0); // driven by r0, where the plane is
    expect(await ha.driverOf(runId)).toBe(-1); // finished: the lease is gone
    expect(streamed[0]?.event).toBe('run');
    expect(streamed.at(-1)?.data).toMatchObject({ type: 'done', status: 'completed' });
    expect(clientText(streamed)).toBe(slowText(30));
    expect(strictlyIncreasing(streamed)).toBe(true);
    // r2 saw exactly the same events, live
    const watched = await watcher.finished;
    expect(watched.map((f) => f.id)).toEqual(streamed.map((f) => f.id));

    // resume on the third replica from the middle: exactly the rest
    const mid = streamed[12]!.id!;
    const resumed = await follow((signal) => openEvents(r2, token, sessionId, mid, signal), { stopWhen: (f) => f.event === 'done' });
    expect((await resumed.finished).map((f) => f.id)).toEqual(streamed.slice(13).map((f) => f.id));
    const history = await r2.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    const [run] = await ha.sql<{ attempt: number }>('SELECT attempt FROM runs WHERE id = $1', [runId]);
    expect(run!.attempt).toBe(1);
  });

  it('1,000 concurrent posts of one idempotency key, spread over the replicas, make one run', async () => {
    const { token, sessionId } = await ha.lb.chat();
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => post(ha.replicas[i % 3]!, token, sessionId, 'once', { idempotencyKey: 'the-key' })),
    );
    expect(results.filter((r) => r.status !== 202)).toEqual([]);
    expect(new Set(results.map((r) => r.body.runId)).size).toBe(1);
    expect(results.filter((r) => !r.body.duplicate)).toHaveLength(1);
    const runs = await ha.sql('SELECT id FROM runs WHERE session_id = $1', [sessionId]);
    expect(runs).toHaveLength(1);
    expect(await ha.sql("SELECT id FROM messages WHERE session_id = $1 AND role = 'user'", [sessionId])).toHaveLength(1);
    expect(await waitRun(ha.lb, token, results[0]!.body.runId)).toMatchObject({ status: 'completed' });
  });

  it('200 sessions x 5 messages through the balancer: every run completes, in order, no crosstalk', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => ha.lb.user()));
    const sessions: { token: string; sessionId: string; tag: string }[] = [];
    for (const [u, { token }] of users.entries()) {
      const agent = await ha.lb.api('POST', '/agents', { token, body: { name: `load ${u}`, systemPrompt: 'load' } });
      const made = await Promise.all(Array.from({ length: 20 }, () => ha.lb.api('POST', '/sessions', { token, body: { agentId: agent.body.id } })));
      for (const [k, s] of made.entries()) sessions.push({ token, sessionId: s.body.id, tag: `u${u}s${k}` });
    }
    expect(sessions).toHaveLength(200);
    const statuses: number[] = [];
    await Promise.all(
      sessions.map(async (s) => {
        for (let m = 0; m < 5; m++) statuses.push((await post(ha.lb, s.token, s.sessionId, `${s.tag}-m${m}`)).status);
      }),
    );
    expect(statuses.filter((st) => st !== 202)).toEqual([]);
    const ids = sessions.map((s) => s.sessionId);
    await waitFor(async () => {
      const [row] = await ha.sql<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE session_id = ANY($1::uuid[]) AND status IN ('queued', 'running')`, [ids]);
      return row!.n === 0;
    }, 180_000, 500);
    const bad = await ha.sql(`SELECT status, error_code, error_message, attempt FROM runs WHERE session_id = ANY($1::uuid[]) AND status <> 'completed' LIMIT 5`, [ids]);
    expect(bad).toEqual([]);
    // per session: runs in submission order, each answering its own message, each starting after the previous ended
    const rows = await ha.sql<{ session_id: string; asked: string; answer: string; started: Date; finished: Date }>(
      `SELECT r.session_id, u.content AS asked, a.content AS answer, r.started_at AS started, r.finished_at AS finished
         FROM runs r JOIN messages u ON u.id = r.message_id JOIN messages a ON a.run_id = r.id AND a.role = 'assistant'
        WHERE r.session_id = ANY($1::uuid[]) ORDER BY r.queue_seq`,
      [ids],
    );
    expect(rows).toHaveLength(1000);
    for (const s of sessions) {
      const mine = rows.filter((r) => r.session_id === s.sessionId);
      expect(mine.map((r) => [r.asked, r.answer])).toEqual(Array.from({ length: 5 }, (_, m) => [`${s.tag}-m${m}`, `You said: ${s.tag}-m${m}`]));
      for (let m = 1; m < 5; m++) expect(mine[m]!.started.getTime()).toBeGreaterThanOrEqual(mine[m - 1]!.finished.getTime());
    }
  }, 240_000);

  it('a 10x burst gets no 5xx, and the queue lag shows in /metrics while it drains', async () => {
    const { token } = await ha.lb.user();
    const agent = await ha.lb.api('POST', '/agents', { token, body: { name: 'burst', systemPrompt: 'b' } });
    const sessions = await Promise.all(Array.from({ length: 10 }, () => ha.lb.api('POST', '/sessions', { token, body: { agentId: agent.body.id } })));
    const send = (k: number) => Promise.all(sessions.map((s) => post(ha.lb, token, s.body.id, `/slow 3 20 ${k}`)));
    const baseline = await send(0); // 10 at once
    const burst = await Promise.all(Array.from({ length: 10 }, (_, k) => send(k + 1))); // 100 at once
    const all = [...baseline, ...burst.flat()];
    expect(all.filter((r) => r.status !== 202).map((r) => r.status)).toEqual([]);
    const scrape = async () => {
      const text = await (await fetch(`${ha.replicas[1]!.url}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      return { queued: value('semibot_runs_queued'), lag: value('semibot_run_queue_lag_seconds') };
    };
    const during = await scrape();
    expect(during.queued).toBeGreaterThan(0);
    expect(during.lag).toBeGreaterThan(0);
    for (const r of all) expect(await waitRun(ha.lb, token, r.body.runId, undefined, 60_000)).toMatchObject({ status: 'completed' });
    expect((await scrape()).queued).toBe(0);
    expect(ha.lbLog.filter((l) => / -?\d+\/-?\d+\/-?\d+\/-?\d+\/\+?\d+ 5\d\d /.test(l))).toEqual([]);
  }, 120_000);

  // these two take a replica away each: they run last
  it('SIGTERM drains: /readyz fails at once, a run still going after the drain window moves to another replica and completes once', async () => {
    const { token, sessionId, warm, runId, driver } = await startSlowRun(ha, 80); // ~4.8 s, past the 3 s drain window
    const draining = ha.replicas[driver]!;
    const viaLb = followToDone(ha.lb, ha.lb, token, sessionId, runId, warm.at(-1)!.id!);
    await new Promise((r) => setTimeout(r, 500));
    const stopping = ha.stop(driver, 'SIGTERM');
    await waitFor(async () => (await fetch(`${draining.url}/readyz`).catch(() => null))?.status === 503, 2_000, 20);
    const stoppedIn = performance.now();
    await stopping;
    expect(performance.now() - stoppedIn).toBeLessThan(10_000);
    expect(await waitRun(ha.lb, token, runId, undefined, 40_000)).toMatchObject({ status: 'completed' });
    const { frames } = await viaLb;
    const ofRun = frames.filter((f) => f.data.runId === runId);
    expect(strictlyIncreasing(frames)).toBe(true);
    expect(ofRun.filter((f) => f.event === 'done')).toHaveLength(1);
    expect(clientText(ofRun)).toBe(slowText(80));
    const [row] = await ha.sql<{ attempt: number }>('SELECT attempt FROM runs WHERE id = $1', [runId]);
    expect(row!.attempt).toBeGreaterThanOrEqual(2); // handed over, not finished by the draining replica
  }, 90_000);

  it('kill -9 of the replica driving a run mid-stream: clients resume through the balancer, the run completes once', async () => {
    const { token, sessionId, warm, runId, driver } = await startSlowRun(ha, 40);
    const doomed = ha.replicas[driver]!;
    // one client on the doomed replica itself, one through the balancer; both resume through the balancer
    const onDoomed = followToDone(doomed, ha.lb, token, sessionId, runId, warm.at(-1)!.id!);
    const viaLb = followToDone(ha.lb, ha.lb, token, sessionId, runId, warm.at(-1)!.id!);
    await waitFor(async () => {
      const [row] = await ha.sql<{ n: number }>('SELECT count(*)::int AS n FROM session_event_batches WHERE run_id = $1', [runId]);
      return row!.n > 0;
    });
    await new Promise((r) => setTimeout(r, 600)); // ~10 tokens in
    await ha.stop(driver, 'SIGKILL');

    const run = await waitRun(ha.lb, token, runId, undefined, 40_000);
    expect(run.status).toBe('completed');
    for (const { frames, reconnects } of [await onDoomed, await viaLb]) {
      const ofRun = frames.filter((f) => f.data.runId === runId);
      expect(strictlyIncreasing(frames)).toBe(true);
      expect(ofRun.filter((f) => f.event === 'done')).toHaveLength(1);
      expect(clientText(ofRun)).toBe(slowText(40));
      expect(reconnects).toBeLessThan(10);
    }
    expect((await onDoomed).reconnects).toBeGreaterThanOrEqual(1);
    const [row] = await ha.sql<{ attempt: number }>('SELECT attempt FROM runs WHERE id = $1', [runId]);
    expect(row!.attempt).toBeGreaterThanOrEqual(2);
    const history = await ha.lb.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.at(-1)).toMatchObject({ role: 'assistant', content: slowText(40) });
  }, 90_000);
});

describe.skipIf(haUnavailable)('HA with the shared worker pool: pool planes dial the balancer', () => {
  let ha: HaCluster;
  const planes: { child: ChildProcess; instanceId: string }[] = [];
  const JWT = 'ha-pool-secret-0123456789abcdef0123';
  /** the pool plane that reports a run in its heartbeats (every 300 ms here) */
  const busyPlane = async () => {
    for (const r of ha.replicas) {
      if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
      const text = await (await fetch(`${r.url}/metrics`)).text();
      const busy = /^semibot_plane_active_runs\{plane="([^"]+)"\} [1-9]/m.exec(text)?.[1];
      const plane = planes.find((p) => p.instanceId === busy);
      if (plane) return plane;
    }
    return null;
  };
  beforeAll(async () => {
    ha = await startHaCluster({ env: { SEMIBOT_PLANE_POOL: 'shared', JWT_SECRET: JWT, VM_HEARTBEAT_INTERVAL_MS: '300' } });
    const poolHome = path.join(ha.replicas[0]!.home, 'pool');
    for (let i = 0; i < 2; i++) {
      const token = mintPoolToken('shared', JWT, poolHome);
      const child = spawn(process.execPath, [daemonEntry], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, SEMIBOT_CONTROL_URL: `${ha.lb.url.replace(/^http/, 'ws')}/ws/vm`, SEMIBOT_VM_TOKEN: token, SEMIBOT_HOME: poolHome },
        stdio: 'ignore',
      });
      planes.push({ child, instanceId: decodeJwt(token).sub! });
    }
    // both pool planes connected (each to whichever replica the balancer chose)
    await waitFor(async () => {
      const text = (await Promise.all(ha.replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()))).join('\n');
      return (text.match(/^semibot_planes_connected (\d+)$/gm) ?? []).reduce((n, l) => n + Number(l.split(' ')[1]), 0) === 2;
    }, 20_000);
  }, 120_000);
  afterAll(async () => {
    for (const p of planes) p.child.kill('SIGKILL');
    await ha?.close();
  });

  it('kill -9 of the replica driving a pool run: its pool plane reconnects elsewhere, the run completes once', async () => {
    const { token, sessionId, warm, runId, driver } = await startSlowRun(ha, 40);
    const viaLb = followToDone(ha.lb, ha.lb, token, sessionId, runId, warm.at(-1)!.id!);
    await new Promise((r) => setTimeout(r, 700));
    await ha.stop(driver, 'SIGKILL');
    expect(await waitRun(ha.lb, token, runId, undefined, 45_000)).toMatchObject({ status: 'completed' });
    const { frames } = await viaLb;
    const ofRun = frames.filter((f) => f.data.runId === runId);
    expect(strictlyIncreasing(frames)).toBe(true);
    expect(ofRun.filter((f) => f.event === 'done')).toHaveLength(1);
    expect(clientText(ofRun)).toBe(slowText(40));
    // no plane of its own was started for the user: the pool carried it
    expect(await ha.sql('SELECT id FROM user_vm_instances')).toEqual([]);
  }, 90_000);

  it('kill -9 of the pool plane running a turn: the run resumes on the other pool plane, once', async () => {
    const { token, sessionId, warm, runId } = await startSlowRun(ha, 30);
    const events = await follow((signal) => openEvents(ha.lb, token, sessionId, warm.at(-1)!.id!, signal), { stopWhen: (f) => f.event === 'done' });
    await events.next((f) => f.event === 'text' && f.data.text === 'tok5 ');
    const busy = await waitFor(busyPlane);
    busy.child.kill('SIGKILL');
    const frames = await events.finished.then(async (f) => (f.some((x) => x.event === 'done') ? f : (await followToDone(ha.lb, ha.lb, token, sessionId, runId, f.at(-1)?.id ?? warm.at(-1)!.id!)).frames));
    expect(await waitRun(ha.lb, token, runId, undefined, 45_000)).toMatchObject({ status: 'completed' });
    expect(clientText(frames.filter((f) => f.data.runId === runId))).toBe(slowText(30));
  }, 90_000);
});

describe.skipIf(haUnavailable)('HA: the fallback to direct is one decision for all replicas', () => {
  let ha: HaCluster;
  const dir = mkdtempSync(path.join(tmpdir(), 'semibot-ha-fallback-'));
  beforeAll(async () => {
    // every plane exits at start, as a broken image would: runs are served direct and the monitor trips
    const entry = path.join(dir, 'broken-plane.mjs');
    writeFileSync(entry, `console.error('plane image broken (test)'); process.exit(3);\n`);
    ha = await startHaCluster({
      replicas: 2,
      env: { SEMIBOT_RUNTIME_ENTRY: entry, SEMIBOT_FALLBACK_MIN_RUNS: '3', SEMIBOT_FALLBACK_PROBE_MS: '600000', VM_BOOTSTRAP_COOLDOWN_MS: '50', VM_BOOTSTRAP_MAX_ATTEMPTS: '100' },
    });
  }, 120_000);
  afterAll(async () => {
    await ha?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the replica whose runs tripped it announces the switch, the other adopts it; a reset on either clears both', async () => {
    const { token, sessionId } = await ha.replicas[0]!.chat();
    for (let i = 0; i < 3; i++) {
      const frames = await readSse(await postStream(ha.replicas[0]!, token, sessionId, `/echo served ${i}`), { until: (f) => f.event === 'done' });
      expect(clientText(frames)).toBe(`served ${i}`);
    }
    const status = (r: Platform) => r.api('GET', '/runtime/fallback/status', { token }).then((res) => res.body as { fallbackEnabled: boolean; fallbackReason: string });
    for (const r of ha.replicas) await waitFor(async () => (await status(r)).fallbackEnabled, 5_000);
    expect((await status(ha.replicas[1]!)).fallbackReason).toMatch(/error rate 100% > 50%|timeout rate/);
    // a run posted on the other replica goes direct at once, with the shared decision's reason
    const other = await readSse(await postStream(ha.replicas[1]!, token, sessionId, '/echo via the other replica'), { until: (f) => f.event === 'done' });
    const runId = (other.find((f) => f.event === 'run')!.data as { runId: string }).runId;
    expect((await ha.replicas[1]!.api('GET', `/runs/${runId}`, { token })).body).toMatchObject({ executionMode: 'direct', fallbackReason: expect.stringMatching(/runtime path degraded/) });
    await ha.replicas[1]!.api('POST', '/runtime/fallback/reset', { token });
    for (const r of ha.replicas) await waitFor(async () => !(await status(r)).fallbackEnabled, 5_000);
  }, 90_000);
});
