import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonEntry } from '@semibot/runtime';
import { childPlanes, cleanupHome, clientText, follow, openEvents, post, sendAndStream, slowText, startPlatform, waitFor, waitRun, type Platform } from './harness.js';


// VM mode `local`: the user's own machine is the plane. Here "their machine" is a separate process
// running the installable command exactly as the console tells a user to.
describe('local VM mode: semibot-runtime connect', () => {
  let p: Platform;
  const machines: ChildProcess[] = [];
  const machineHome = mkdtempSync(path.join(tmpdir(), 'semibot-machine-'));
  const connect = (apiKey: string, logs: string[] = []) => {
    const child = spawn(process.execPath, [daemonEntry, 'connect', '--server', p.url, '--api-key', apiKey, '--home', machineHome], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => logs.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
    machines.push(child);
    return child;
  };
  const exitOf = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

  beforeAll(async () => {
    // an absent machine's VM_UNAVAILABLE is tested: no fallback to direct
    p = await startPlatform({ env: { VM_CONNECT_TIMEOUT_MS: '1500', VM_RECONNECT_GRACE_MS: '1000', SEMIBOT_FALLBACK: 'off' } });
  });
  afterAll(async () => {
    for (const m of machines) m.kill('SIGKILL');
    await p?.stop();
    if (p) cleanupHome(p);
    rmSync(machineHome, { recursive: true, force: true });
  });

  it('runs turns on the connected machine; without it, a clear error naming the command; the chain resolves user > org > default', async () => {
    const { token, sessionId } = await p.chat();
    const key = (await p.api('POST', '/api-keys', { token, body: { name: 'my laptop' } })).body.key as string;
    // the default is process; connecting as local is refused until the user's mode says local
    expect((await p.api('GET', '/vm/status', { token })).body.resolvedMode).toEqual({ mode: 'process', from: 'default' });
    const refused = connect(key);
    expect(await exitOf(refused)).toBe(3);
    expect((await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'somewhere' } })).status).toBe(400);
    expect((await p.api('PATCH', '/org', { token, body: { defaultVmMode: 'local' } })).body).toMatchObject({ defaultVmMode: 'local' });
    expect((await p.api('GET', '/vm/status', { token })).body.resolvedMode).toEqual({ mode: 'local', from: 'org' });
    expect((await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'local' } })).body).toMatchObject({ vmMode: 'local' });
    expect((await p.api('GET', '/vm/status', { token })).body).toMatchObject({ resolvedMode: { mode: 'local', from: 'user' }, connected: false });

    // nothing connected: the run waits VM_CONNECT_TIMEOUT_MS, then says what to run
    const early = await sendAndStream(p, token, sessionId, 'anyone there?');
    const error = early.find((f) => f.event === 'error')!;
    expect(error.data).toMatchObject({ code: 'VM_UNAVAILABLE' });
    expect(error.data.message).toContain('semibot-runtime connect');

    const logs: string[] = [];
    connect(key, logs);
    await waitFor(async () => (await p.api('GET', '/vm/status', { token })).body.connected === true);
    const frames = await sendAndStream(p, token, sessionId, 'hello from my machine');
    expect(clientText(frames)).toBe('You said: hello from my machine');
    expect((await p.api('GET', '/vm/status', { token })).body).toMatchObject({ mode: 'local', state: 'ready', connected: true });
    expect(childPlanes(p)).toEqual([]); // the control plane started nothing
    expect(logs.join('')).toContain('this machine is connecting as your execution plane');
    expect(logs.join('')).not.toContain(key); // the key never reaches a log line
  });

  it('the machine killed mid-answer and started again: the run resumes there and completes once', async () => {
    const { token, sessionId } = await p.chat();
    const key = (await p.api('POST', '/api-keys', { token, body: { name: 'laptop' } })).body.key as string;
    await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'local' } });
    const first = connect(key);
    await waitFor(async () => (await p.api('GET', '/vm/status', { token })).body.connected === true);
    const warm = await sendAndStream(p, token, sessionId, 'warm');
    const started = await post(p, token, sessionId, '/slow 30 60');
    const events = await follow((signal) => openEvents(p, token, sessionId, warm.at(-1)!.id!, signal), { stopWhen: (f) => f.event === 'done' });
    await events.next((f) => f.event === 'text' && f.data.text === 'tok5 ');
    first.kill('SIGKILL');
    await exitOf(first);
    connect(key); // the user starts it again
    const frames = await events.finished;
    expect(frames.filter((f) => f.event === 'done')).toHaveLength(1);
    expect(clientText(frames)).toBe(slowText(30));
    expect((await waitRun(p, token, started.body.runId)).status).toBe('completed');
  }, 60_000);

  it('a key that is not valid ends the command with its error', async () => {
    const logs: string[] = [];
    const child = connect('sbk_not-a-key', logs);
    expect(await exitOf(child)).toBe(3);
    expect(logs.join('')).toMatch(/UNAUTHORIZED|INVALID/);
  });
});
