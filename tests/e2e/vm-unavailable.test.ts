import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, post, sendAndStream, startPlatform, waitRun, type Platform } from './harness.js';

/**
 * An execution plane that never comes: the run ends with a clear `error` + `done` (failed), GET
 * /vm/status says why and when to retry, and during the cooldown further messages fail fast.
 *
 * SEMIBOT_RUNTIME_ENTRY points at a stand-in plane: it exits with code 1 — or, for users listed in
 * the `sleepers` directory, sleeps until it is killed (it never dials in).
 */
const CONNECT_TIMEOUT_MS = 1_500;
const COOLDOWN_MS = 60_000;

describe('an execution plane that never comes', () => {
  let p: Platform;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'semibot-noplane-'));
    mkdirSync(path.join(dir, 'sleepers'));
    const entry = path.join(dir, 'plane.mjs');
    writeFileSync(
      entry,
      `import { existsSync } from 'node:fs';
import path from 'node:path';
// the plane's home is <SEMIBOT_HOME>/planes/<userId>
const user = path.basename(process.env.SEMIBOT_HOME ?? '');
if (existsSync(path.join(${JSON.stringify(path.join(dir, 'sleepers'))}, user))) setInterval(() => {}, 1 << 30);
else { process.stderr.write('stand-in plane: giving up\\n'); process.exit(1); }
`,
    );
    p = await startPlatform({
      env: {
        SEMIBOT_RUNTIME_ENTRY: entry,
        // the failures themselves are tested here: no fallback to direct (execution-modes.test.ts has it)
        SEMIBOT_FALLBACK: 'off',
        VM_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        VM_BOOTSTRAP_COOLDOWN_MS: String(COOLDOWN_MS),
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** the frames of a failed start: run, error (with retryAfterMs), done failed */
  const expectVmFailure = (frames: Awaited<ReturnType<typeof sendAndStream>>, code: string) => {
    expect(frames.map((f) => f.event)).toEqual(['run', 'error', 'done']);
    const [run, error, done] = frames;
    expect(error!.data).toMatchObject({ type: 'error', runId: run!.data.runId, code });
    expect(typeof error!.data.message).toBe('string');
    expect(error!.data.retryAfterMs).toBeGreaterThan(0);
    expect(error!.data.retryAfterMs).toBeLessThanOrEqual(COOLDOWN_MS);
    expect(done!.data).toMatchObject({ type: 'done', status: 'failed' });
    return { runId: run!.data.runId!, error: error!.data };
  };

  it('a plane that exits at once: VM_START_FAILED, /vm/status explains, the cooldown fails fast with VM_UNAVAILABLE', async () => {
    const { token, sessionId } = await p.chat();
    const first = expectVmFailure(await sendAndStream(p, token, sessionId, '/echo hello?'), 'VM_START_FAILED');
    expect(first.error.message).toMatch(/exit/i);

    const run = await waitRun(p, token, first.runId);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'VM_START_FAILED' } });
    expect(run.error.message).toBe(first.error.message);

    const status = await p.api('GET', '/vm/status', { token });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ mode: 'process', connected: false });
    expect(status.body.lastError).toMatch(/exit/i);
    expect(status.body.retryAfterMs).toBeGreaterThan(0);
    expect(status.body.retryAfterMs).toBeLessThanOrEqual(COOLDOWN_MS);

    // During the cooldown nothing is started again: the next message fails at once.
    const t0 = Date.now();
    const second = expectVmFailure(await sendAndStream(p, token, sessionId, '/echo still there?'), 'VM_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await waitRun(p, token, second.runId)).error.code).toBe('VM_UNAVAILABLE');
    // and on the 202 path too
    const queued = await post(p, token, sessionId, '/echo and now?');
    expect(queued.status).toBe(202);
    expect(await waitRun(p, token, queued.body.runId)).toMatchObject({ status: 'failed', error: { code: 'VM_UNAVAILABLE' } });

    // The history keeps every question; there are no answers.
    const history = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
    expect(history.body.data.map((m: any) => m.role)).toEqual(['user', 'user', 'user']);

    // An explicit re-bootstrap ignores the cooldown (and fails again, saying so).
    const re = await p.api('POST', '/vm/rebootstrap', { token });
    expect(re.status).toBe(200);
    expect(re.body).toMatchObject({ connected: false });
    expect(re.body.lastError).toMatch(/exit/i);
  });

  it('a plane that never dials in: VM_START_FAILED after the connect timeout', async () => {
    const { token, userId, sessionId } = await (async () => {
      const u = await p.user();
      writeFileSync(path.join(dir, 'sleepers', u.userId), '');
      const agent = await p.api('POST', '/agents', { token: u.token, body: { name: 'a' } });
      const session = await p.api('POST', '/sessions', { token: u.token, body: { agentId: agent.body.id } });
      return { ...u, sessionId: session.body.id as string };
    })();
    expect(userId).toBeTruthy();
    const t0 = Date.now();
    const failed = expectVmFailure(await sendAndStream(p, token, sessionId, '/echo anyone?'), 'VM_START_FAILED');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS);
    expect(failed.error.message).toMatch(new RegExp(`${CONNECT_TIMEOUT_MS}`));
    const status = await p.api('GET', '/vm/status', { token });
    expect(status.body.lastError).toMatch(/connect/i);
    expect(status.body.retryAfterMs).toBeGreaterThan(0);

    // other users' trouble aside, the control plane itself is fine
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
  });
});
