import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, clientText, follow, openEvents, post, sendAndStream, slowText, startPlatform, waitFor, waitRun, type Platform } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const IMAGE = 'semibot/plane:e2e';
const docker = (...args: string[]) => execFileSync('docker', args).toString().trim();
const containersOf = (instanceId: string) => docker('ps', '-q', '--filter', `label=semibot.instance=${instanceId}`).split('\n').filter(Boolean);

/** Why the real Docker engine cannot be used here, or null when `docker info` reaches one. */
function dockerUnavailable(): string | null {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 20_000 });
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = e.code === 'ENOENT' ? 'the docker command is not installed' : (e.stderr?.toString().trim().split('\n')[0] || e.message);
    return `no Docker engine here: ${why} (.ci/run installs docker.io and starts dockerd)`;
  }
}
const reason = dockerUnavailable();

// CI starts the engine: there its absence is a failure, not a skip
if (reason !== null && process.env.CI) {
  describe('docker VM mode in CI', () => {
    it('has a Docker engine', () => expect(reason).toBeNull());
  });
}

// `docker` VM mode against the real Docker engine, with the plane image built from local files by
// deploy/build-plane-image.sh.
describe.skipIf(reason !== null)(`docker VM mode: a container per user${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let p: Platform;
  beforeAll(async () => {
    execFileSync('bash', [path.join(root, 'deploy/build-plane-image.sh'), IMAGE], { stdio: 'pipe' });
    p = await startPlatform({
      env: { SEMIBOT_DOCKER_IMAGE: IMAGE, SEMIBOT_DOCKER_CPUS: '0.5', SEMIBOT_DOCKER_MEMORY_MB: '256', VM_RECONNECT_GRACE_MS: '1000' },
    });
  }, 120_000);
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  it('runs a user whose VM mode is docker in a container with the configured limits and a volume of its own', async () => {
    expect(((await fetch(`${p.url}/readyz`).then((r) => r.json())) as { vmModes: unknown }).vmModes).toMatchObject({ docker: true });
    const { token, sessionId } = await p.chat();
    await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'docker' } });
    const frames = await sendAndStream(p, token, sessionId, 'hello from a container');
    expect(clientText(frames)).toBe('You said: hello from a container');
    const status = (await p.api('GET', '/vm/status', { token })).body;
    expect(status).toMatchObject({ mode: 'docker', state: 'ready', connected: true, resolvedMode: { mode: 'docker', from: 'user' } });
    const [id] = containersOf(status.instanceId);
    const info = JSON.parse(docker('inspect', id!))[0];
    expect(info.HostConfig).toMatchObject({ NanoCpus: 5e8, Memory: 256 * 2 ** 20, NetworkMode: 'host' });
    expect(info.Config.User).toBe('1000:1000');
    const me = (await p.api('GET', '/auth/me', { token })).body.user.id as string;
    expect(info.Mounts).toEqual(expect.arrayContaining([expect.objectContaining({ Type: 'volume', Name: `semibot-plane-${me}`, Destination: '/plane' })]));
  });

  it('docker kill of the container mid-answer: a new container on the same volume resumes the run, one done', async () => {
    const { token, sessionId } = await p.chat();
    await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'docker' } });
    const warm = await sendAndStream(p, token, sessionId, 'warm');
    const { instanceId } = (await p.api('GET', '/vm/status', { token })).body;
    const started = await post(p, token, sessionId, '/slow 30 60');
    const events = await follow((signal) => openEvents(p, token, sessionId, warm.at(-1)!.id!, signal), { stopWhen: (f) => f.event === 'done' });
    await events.next((f) => f.event === 'text' && f.data.text === 'tok5 ');
    const [victim] = containersOf(instanceId);
    docker('kill', victim!);
    const frames = await events.finished;
    expect(frames.filter((f) => f.event === 'done')).toHaveLength(1);
    expect(clientText(frames)).toBe(slowText(30));
    expect(await waitRun(p, token, started.body.runId)).toMatchObject({ status: 'completed', attempt: 2 });
    const [replacement] = containersOf(instanceId);
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(victim);
  }, 60_000);

  it('a restarted control plane removes the containers the previous one left', async () => {
    const { token, sessionId } = await p.chat();
    await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'docker' } });
    await sendAndStream(p, token, sessionId, 'before the restart');
    const { instanceId } = (await p.api('GET', '/vm/status', { token })).body;
    expect(containersOf(instanceId)).toHaveLength(1);
    p = await p.restart('SIGKILL');
    await waitFor(async () => containersOf(instanceId).length === 0, 15_000);
    // and the next message gets a fresh container
    expect(clientText(await sendAndStream(p, token, sessionId, 'after'))).toBe('You said: after');
  }, 60_000);
});
