import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonEntry } from '@semibot/runtime';
import { cleanupHome, sendAndStream, startPlatform, textOf, waitFor, type Platform, type SseFrame } from './harness.js';

/**
 * Execution modes (seeds 002/003): `runtime` (through a plane) or `direct` (the control plane streams
 * from the LLM itself), chosen user > org > default, and the sliding-window fallback. The planes
 * are made to fail for real: the plane entry here is the real daemon behind a switch file — while
 * it exists every plane exits at start, as a broken image would.
 */
describe('execution modes and the automatic fallback to direct', () => {
  let p: Platform;
  const dir = mkdtempSync(path.join(tmpdir(), 'semibot-exec-'));
  const broken = path.join(dir, 'planes-are-broken');
  const entry = path.join(dir, 'plane-entry.mjs');
  beforeAll(async () => {
    writeFileSync(
      entry,
      `import { existsSync } from 'node:fs';\n` +
        `if (existsSync(${JSON.stringify(broken)})) { console.error('plane image broken (test switch)'); process.exit(3); }\n` +
        `await import(${JSON.stringify(daemonEntry)});\n`,
    );
    p = await startPlatform({
      env: {
        SEMIBOT_RUNTIME_ENTRY: entry,
        SEMIBOT_FALLBACK_MIN_RUNS: '3',
        SEMIBOT_FALLBACK_PROBE_MS: '1500',
        VM_BOOTSTRAP_COOLDOWN_MS: '50',
        VM_BOOTSTRAP_MAX_ATTEMPTS: '100',
        VM_CONNECT_TIMEOUT_MS: '5000',
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
    rmSync(dir, { recursive: true, force: true });
  });

  const runOf = async (token: string, frames: SseFrame[]) => {
    const runId = (frames.find((f) => f.event === 'run')!.data as { runId: string }).runId;
    return (await p.api('GET', `/runs/${runId}`, { token })).body as { executionMode: string; fallbackReason: string | null; status: string };
  };
  const types = (frames: SseFrame[]) => [...new Set(frames.map((f) => f.event))];

  it('direct: streamed by the control plane from the LLM, same SSE contract, recorded on the run; the chain user > org', async () => {
    const { token, sessionId } = await p.chat('You are terse.');
    const viaPlane = await sendAndStream(p, token, sessionId, '/echo through a plane');
    expect(await runOf(token, viaPlane)).toMatchObject({ executionMode: 'runtime', fallbackReason: null });

    expect((await p.api('PATCH', '/auth/me', { token, body: { executionMode: 'direct' } })).body).toMatchObject({ executionMode: 'direct' });
    const direct = await sendAndStream(p, token, sessionId, '/echo straight from the model');
    expect(textOf(direct)).toBe('straight from the model');
    expect(direct.at(-1)!.data).toMatchObject({ status: 'completed' });
    // the same contract: the direct path's events are a plane's (less the plan steps of SemiGraph)
    expect(types(direct)).toEqual(['run', 'text', 'usage', 'done']);
    expect(types(viaPlane)).toEqual(expect.arrayContaining(types(direct)));
    expect(await runOf(token, direct)).toMatchObject({ executionMode: 'direct', fallbackReason: null, status: 'completed' });
    // the history is the session's: the answer is stored like any other
    const messages = (await p.api('GET', `/sessions/${sessionId}/messages`, { token })).body.data as Array<{ content: string }>;
    expect(messages.map((m) => m.content)).toContain('straight from the model');

    // the org's link: direct for users who set none; the user's own setting wins
    await p.api('PATCH', '/auth/me', { token, body: { executionMode: null } });
    expect((await p.api('PATCH', '/org', { token, body: { defaultExecutionMode: 'direct' } })).body).toMatchObject({ defaultExecutionMode: 'direct' });
    expect(await runOf(token, await sendAndStream(p, token, sessionId, '/echo org says direct'))).toMatchObject({ executionMode: 'direct' });
    await p.api('PATCH', '/auth/me', { token, body: { executionMode: 'runtime' } });
    expect(await runOf(token, await sendAndStream(p, token, sessionId, '/echo user says runtime'))).toMatchObject({ executionMode: 'runtime' });
    // bad settings are refused by name, nothing changed
    const bad = await p.api('PATCH', '/auth/me', { token, body: { executionMode: 'sideways' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    expect((await p.api('GET', '/auth/me', { token })).body.user).toMatchObject({ executionMode: 'runtime' });
  });

  it('planes that cannot start: runs go direct with the reason, the monitor trips, a probe brings the runtime path back', async () => {
    const { token, sessionId } = await p.chat();
    await p.api('POST', '/runtime/fallback/reset', { token });
    writeFileSync(broken, '');
    // each run: the plane exits at start, the run is served direct instead of failing
    for (let i = 0; i < 3; i++) {
      const frames = await sendAndStream(p, token, sessionId, `/echo served anyway ${i}`);
      expect(textOf(frames)).toBe(`served anyway ${i}`);
      expect(frames.at(-1)!.data).toMatchObject({ status: 'completed' });
      const run = await runOf(token, frames);
      expect(run.executionMode).toBe('direct');
      expect(run.fallbackReason).toMatch(/no execution plane could start/);
    }
    const status = (await p.api('GET', '/runtime/fallback/status', { token })).body;
    expect(status).toMatchObject({ fallbackEnabled: true, fallbackReason: expect.stringMatching(/error rate 100% > 50%|timeout rate/) });
    const orgId = (await p.api('GET', '/auth/me', { token })).body.org.id as string;
    const metrics = (await p.api('GET', `/runtime/metrics/${orgId}`, { token })).body;
    expect(metrics.runtime).toMatchObject({ total: 3, success: 0 });
    expect(metrics.direct.total).toBeGreaterThanOrEqual(3);
    expect((await p.api('GET', '/runtime/metrics', { token })).body).toMatchObject({ fallbackEnabled: true, defaultMode: 'runtime' });

    // in fallback, runs no longer try a plane at all: direct at once, the monitor's reason recorded
    const during = await sendAndStream(p, token, sessionId, '/echo during the fallback');
    expect(textOf(during)).toBe('during the fallback');
    expect((await runOf(token, during)).fallbackReason).toMatch(/runtime path degraded: error rate|runtime path degraded: timeout rate/);

    // the planes are fixed; after the probe interval one run goes through a plane again, and its success ends the fallback
    rmSync(broken);
    await new Promise((r) => setTimeout(r, 1_600));
    const probe = await sendAndStream(p, token, sessionId, '/echo probe');
    expect(textOf(probe)).toBe('probe');
    expect(await runOf(token, probe)).toMatchObject({ executionMode: 'runtime', fallbackReason: null });
    expect((await p.api('GET', '/runtime/fallback/status', { token })).body).toMatchObject({ fallbackEnabled: false });
    expect(await runOf(token, await sendAndStream(p, token, sessionId, '/echo back to normal'))).toMatchObject({ executionMode: 'runtime' });
  }, 120_000);

  it('a failed probe keeps the fallback; an org admin resets it', async () => {
    const { token, sessionId } = await p.chat();
    writeFileSync(broken, '');
    for (let i = 0; i < 3; i++) await sendAndStream(p, token, sessionId, `/echo trip ${i}`);
    expect((await p.api('GET', '/runtime/fallback/status', { token })).body.fallbackEnabled).toBe(true);
    await new Promise((r) => setTimeout(r, 1_600));
    const probe = await sendAndStream(p, token, sessionId, '/echo failing probe');
    expect(textOf(probe)).toBe('failing probe'); // served direct after the probe's plane failed
    expect((await p.api('GET', '/runtime/fallback/status', { token })).body.fallbackEnabled).toBe(true);
    rmSync(broken);
    const reset = await p.api('POST', '/runtime/fallback/reset', { token });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ fallbackEnabled: false });
    expect(await runOf(token, await sendAndStream(p, token, sessionId, '/echo after reset'))).toMatchObject({ executionMode: 'runtime' });
    // another org's metrics are not there for this caller
    expect((await p.api('GET', '/runtime/metrics/00000000-0000-4000-8000-000000000000', { token })).status).toBe(404);
    expect((await p.api('GET', '/runtime/metrics')).status).toBe(401);
    expect(existsSync(broken)).toBe(false);
  }, 120_000);
});
