import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, follow, openEventsWith, post, sendAndStream, startPlatform, textOf, waitFor, waitRun, type Platform } from './harness.js';
import { agentWithSession, framesOf, metric, planeHome, planePid, processAlive, repoRoot } from './semigraph-helpers.js';
import { doneOf, dumpLogs, expectNoPlanesLeft, expectPlaneReady, expectSessionWhole, slowText, timing, vmStatus } from './chaos-helpers.js';

/**
 * Chaos: the execution plane's lifecycle. A plane that keeps failing to start backs off by the
 * cooldown and ends `failed` after VM_BOOTSTRAP_MAX_ATTEMPTS, saying why; POST /vm/rebootstrap
 * tries again at once. An idle plane is stopped (after a final snapshot) and started again by the
 * next message; a busy one is not stopped mid-run.
 */
const COOLDOWN_MS = 1_000;
const IDLE_MS = 1_500;

describe('chaos: a plane that cannot start — cooldown, attempt cap, rebootstrap', () => {
  let p: Platform;
  let dir: string;
  let starts: string;
  let broken: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'semibot-chaos-boot-'));
    starts = path.join(dir, 'starts.log');
    broken = path.join(dir, 'broken');
    writeFileSync(broken, '');
    const entry = path.join(dir, 'plane.mjs');
    // a plane that exits at once while `broken` exists, and is the real daemon once it is gone
    writeFileSync(
      entry,
      `import { appendFileSync, existsSync } from 'node:fs';
appendFileSync(${JSON.stringify(starts)}, Date.now() + '\\n');
if (existsSync(${JSON.stringify(broken)})) { process.stderr.write('stand-in plane: broken\\n'); process.exit(1); }
await import(${JSON.stringify(path.join(repoRoot, 'apps/runtime/dist/main.js'))});
`,
    );
    p = await startPlatform({
      env: {
        SEMIBOT_RUNTIME_ENTRY: entry,
        // these planes' failures are what is tested: no fallback to direct (execution-modes.test.ts has it)
        SEMIBOT_FALLBACK: 'off',
        VM_BOOTSTRAP_COOLDOWN_MS: String(COOLDOWN_MS),
        VM_BOOTSTRAP_MAX_ATTEMPTS: '2',
        VM_CONNECT_TIMEOUT_MS: '5000',
      },
    });
  });
  afterAll(async () => {
    dumpLogs(p, 'chaos-lifecycle-boot');
    await p?.stop();
    if (p) {
      await expectNoPlanesLeft(p.home);
      cleanupHome(p);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const startCount = () => (existsSync(starts) ? readFileSync(starts, 'utf8').trim().split('\n').length : 0);

  it('fails, cools down, fails again and ends `failed`; stays failed after the cooldown; rebootstrap tries at once, and recovers once the plane can start', async () => {
    const { token, sessionId } = await (async () => {
      const u = await p.user();
      return { ...u, ...(await agentWithSession(p, u.token, {})) };
    })();
    const failure = async (content: string) => {
      const frames = await sendAndStream(p, token, sessionId, content);
      expect(frames.map((f) => f.event)).toEqual(['run', 'error', 'done']);
      expect(frames[2]!.data.status).toBe('failed');
      return frames[1]!.data as unknown as { code: string; message: string; retryAfterMs: number };
    };

    // attempt 1: the plane exits; the error and /vm/status say so and when to retry
    const first = await failure('/echo one');
    expect(first.code).toBe('VM_START_FAILED');
    expect(first.message).toMatch(/exited before connecting \(code 1/);
    expect(startCount()).toBe(1);
    let s = await vmStatus(p, token);
    expect(s).toMatchObject({ state: 'disconnected', connected: false, bootstrapAttempts: 1 });
    expect(s.lastError).toMatch(/exited before connecting/);
    expect(s.retryAfterMs).toBeGreaterThan(0);
    expect(s.retryAfterMs).toBeLessThanOrEqual(COOLDOWN_MS);
    const instance = s.instanceId;

    // within the cooldown: refused at once, nothing started
    const cooling = await failure('/echo two');
    expect(cooling.code).toBe('VM_UNAVAILABLE');
    expect(cooling.retryAfterMs).toBeGreaterThan(0);
    expect(startCount()).toBe(1);

    // after the cooldown: attempt 2 — the cap — and the plane is `failed`, with the reason
    await waitFor(async () => ((await vmStatus(p, token)).retryAfterMs === 0 ? true : null), COOLDOWN_MS + 1_000, 50);
    const second = await failure('/echo three');
    expect(second.code).toBe('VM_START_FAILED');
    expect(startCount()).toBe(2);
    s = await vmStatus(p, token);
    expect(s).toMatchObject({ instanceId: instance, state: 'failed', connected: false, bootstrapAttempts: 2 });
    expect(s.lastError).toMatch(/exited before connecting/);
    expect(s.retryAfterMs).toBeGreaterThan(0);

    // `failed` is final: after another cooldown, messages still fail at once and nothing is started
    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 200));
    const t0 = Date.now();
    const stillFailed = await failure('/echo four');
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(stillFailed.code).toBe('VM_UNAVAILABLE');
    expect(stillFailed.message).toMatch(/exited before connecting/);
    expect(startCount()).toBe(2);
    // ...also on the 202 path: the acknowledged message ends with a clear error
    const queued = await post(p, token, sessionId, '/echo five');
    expect(queued.status).toBe(202);
    expect(await waitRun(p, token, queued.body.runId)).toMatchObject({ status: 'failed', error: { code: 'VM_UNAVAILABLE' } });

    // POST /vm/rebootstrap ignores the cooldown and the cap: a new try at once (a new instance: the failed one is ended)
    const t1 = Date.now();
    const re1 = await p.api('POST', '/vm/rebootstrap', { token });
    expect(re1.status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(3_000);
    expect(startCount()).toBe(3);
    expect(re1.body).toMatchObject({ connected: false, state: 'disconnected', bootstrapAttempts: 1 });
    expect(re1.body.instanceId).not.toBe(instance);
    expect(re1.body.lastError).toMatch(/exited before connecting/);
    // ...and again, still within the cooldown: the counter restarts rather than running into the cap
    const re2 = await p.api('POST', '/vm/rebootstrap', { token });
    expect(startCount()).toBe(4);
    expect(re2.body).toMatchObject({ instanceId: re1.body.instanceId, state: 'disconnected', bootstrapAttempts: 1 });

    // the plane can start now: a rebootstrap brings it up at once, and the history kept every question
    rmSync(broken);
    const re3 = await p.api('POST', '/vm/rebootstrap', { token });
    expect(re3.body).toMatchObject({ instanceId: re1.body.instanceId, state: 'ready', connected: true, lastError: null, bootstrapAttempts: 0, retryAfterMs: 0 });
    const ok = await sendAndStream(p, token, sessionId, '/echo back');
    expect(textOf(ok)).toBe('back');
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => `${m.role}:${m.content}`)).toEqual([
      'user:/echo one',
      'user:/echo two',
      'user:/echo three',
      'user:/echo four',
      'user:/echo five',
      'user:/echo back',
      'assistant:back',
    ]);
  });
});

describe('chaos: idle planes are stopped and started again on demand', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform({
      env: {
        VM_HEARTBEAT_INTERVAL_MS: '300',
        VM_HEARTBEAT_TIMEOUT_MS: '1500',
        VM_IDLE_TIMEOUT_MS: String(IDLE_MS),
        SEMIBOT_FALLBACK: 'off',
      },
    });
  });
  afterAll(async () => {
    dumpLogs(p, 'chaos-lifecycle-idle');
    await p?.stop();
    if (p) {
      await expectNoPlanesLeft(p.home);
      cleanupHome(p);
    }
  });

  it('an idle plane exits on its own after a final snapshot; /vm/status says terminated; the next message starts a new one with the session intact', async () => {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, {});
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });
    const stopsBefore = await metric(p, 'semibot_idle_planes_stopped_total');
    // a turn that leaves a note behind after it ended (after its own snapshot): only a final snapshot can hold it
    const first = await post(p, token, sessionId, '/tool run_command {"command":"(sleep 0.3; echo late-note > ../memory/scratchpad.md) >/dev/null 2>&1 &"}');
    await live.next(doneOf(first.body.runId), 15_000);
    const doneAt = Date.now();
    const pid = planePid(p, userId)!;
    const before = await vmStatus(p, token);

    await waitFor(async () => !processAlive(pid), IDLE_MS + 5_000, 50);
    timing('idle plane: last done → process exited', Date.now() - doneAt);
    expect(Date.now() - doneAt).toBeGreaterThanOrEqual(IDLE_MS - 200);
    const st = await waitFor(async () => {
      const s = await vmStatus(p, token);
      return s.state !== 'ready' ? s : null;
    }, 3_000);
    expect(st).toMatchObject({ instanceId: before.instanceId, state: 'terminated', connected: false, lastError: null, retryAfterMs: 0 });
    expect(await metric(p, 'semibot_idle_planes_stopped_total')).toBe(stopsBefore + 1);
    // still terminated a moment later (nothing reports the planned stop as a disconnect)
    await new Promise((r) => setTimeout(r, 500));
    expect((await vmStatus(p, token)).state).toBe('terminated');

    // the plane's disk is gone too: the next plane must restore the session from the final snapshot
    rmSync(planeHome(p, userId), { recursive: true, force: true });
    const t0 = Date.now();
    const second = await post(p, token, sessionId, '/tool run_command {"command":"cat ../memory/scratchpad.md"}');
    expect((await live.next(doneOf(second.body.runId), 20_000)).data.status).toBe('completed');
    timing('idle plane: next message → done on a new plane', Date.now() - t0);
    const out = framesOf(live.frames.filter((f) => f.data.runId === second.body.runId), 'tool_result')[0]!.data.result as { stdout: string };
    expect(out.stdout).toBe('late-note\n');
    const after = await expectPlaneReady(p, token);
    expect(after.instanceId).not.toBe(before.instanceId);
    expect(planePid(p, userId)).not.toBe(pid);
    const third = await post(p, token, sessionId, '/echo x');
    await live.next(doneOf(third.body.runId), 15_000);
    live.close();
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId: first.body.runId }, { runId: second.body.runId }, { runId: third.body.runId, expected: 'x' }]);
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
  });

  it('a plane busy with a run longer than the idle timeout is not stopped mid-run', async () => {
    const { token, userId } = await p.user();
    const { sessionId } = await agentWithSession(p, token, {});
    const live = await follow((s) => openEventsWith(p, token, sessionId, {}, s), { timeoutMs: 50_000 });
    const sent = await post(p, token, sessionId, '/slow 100 40'); // 4 s
    const runId = sent.body.runId;
    await live.next((f) => f.event === 'text' && f.data.runId === runId, 15_000);
    const pid = planePid(p, userId)!;
    expect((await live.next(doneOf(runId), 15_000)).data.status).toBe('completed');
    live.close();
    expect(processAlive(pid)).toBe(true);
    expect(framesOf(live.frames, 'step_restart')).toEqual([]);
    expect(await waitRun(p, token, runId)).toMatchObject({ status: 'completed', attempt: 1 });
    await expectSessionWhole(p, token, sessionId, live.frames, [{ runId, expected: slowText(100) }]);
    // ...and once idle, it is stopped
    await waitFor(async () => !processAlive(pid), IDLE_MS + 5_000, 50);
  });
});
