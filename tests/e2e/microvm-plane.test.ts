import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, clientText, follow, openEvents, post, sendAndStream, slowText, startPlatform, waitFor, waitRun, type Platform } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The QEMU processes running a plane instance's VM (found by their `-name`, as the driver does).
 */
function vmsOf(instanceId: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`semibot-plane-${instanceId},process=semibot-plane-${instanceId}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

// `microvm` VM mode: real QEMU microVMs (qemu-system-x86, which .ci/run installs) booting the
// kernel and initramfs deploy/build-microvm-image.sh makes from this machine's Debian kernel
// package and the plane. Accelerator: this machine's /dev/kvm is a paravirtual KVM (kvm_pvm, the
// host is itself a VM) on which a stock kernel dies at boot ("KVM internal error ... emulation
// failure" on its first cmpxchg16b/xrstor to a fresh page), so the VMs run under QEMU's TCG
// emulator here; SEMIBOT_TEST_MICROVM_ACCEL=kvm runs the same tests on hardware virtualisation.
describe('microvm VM mode: a QEMU microVM per user', () => {
  let p: Platform;
  // a turn may wait for an emulated VM to boot and dial in: as long as VM_CONNECT_TIMEOUT_MS below
  // allows, and the turn after it (30 s once in CI, with another test on the second core)
  const turn = (token: string, sessionId: string, content: string) => sendAndStream(p, token, sessionId, content, {}, { timeoutMs: 90_000 });
  let image: string;
  beforeAll(async () => {
    image = mkdtempSync(path.join(tmpdir(), 'semibot-microvm-'));
    execFileSync('bash', [path.join(root, 'deploy/build-microvm-image.sh'), image], { stdio: 'pipe' });
    p = await startPlatform({
      env: {
        SEMIBOT_MICROVM_IMAGE: image,
        SEMIBOT_MICROVM_ACCEL: process.env.SEMIBOT_TEST_MICROVM_ACCEL ?? 'tcg',
        SEMIBOT_MICROVM_MEMORY_MB: '512',
        SEMIBOT_MICROVM_DISK_MB: '256',
        // an emulated VM boots in ~5 s
        VM_CONNECT_TIMEOUT_MS: '60000',
        VM_RECONNECT_GRACE_MS: '1000',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
    if (image) rmSync(image, { recursive: true, force: true });
  });

  it('runs a user whose VM mode is microvm in a VM of its own: its own kernel, its own disk', async () => {
    expect(((await fetch(`${p.url}/readyz`).then((r) => r.json())) as { vmModes: unknown }).vmModes).toMatchObject({ microvm: true });
    const { token, sessionId } = await p.chat();
    await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'microvm' } });
    const frames = await turn(token, sessionId, '/tool run_command {"command":"uname -r; grep -c . /proc/cpuinfo >/dev/null; mount | grep \' /plane \'"}');
    expect(frames.at(-1)!.data).toMatchObject({ status: 'completed' });
    const result = frames.find((f) => f.event === 'tool_result')!.data.result as { stdout: string };
    const [guestKernel, mountLine] = result.stdout.trim().split('\n');
    // the kernel of the image, not the host's
    expect(guestKernel).toBe(readFileSync(path.join(image, 'kernel-version'), 'utf8').trim());
    expect(guestKernel).not.toBe(execFileSync('uname', ['-r']).toString().trim());
    expect(mountLine).toMatch(/^\/dev\/vda on \/plane type ext4/);
    const status = (await p.api('GET', '/vm/status', { token })).body;
    expect(status).toMatchObject({ mode: 'microvm', state: 'ready', connected: true, resolvedMode: { mode: 'microvm', from: 'user' } });
    expect(vmsOf(status.instanceId)).toHaveLength(1);
    // the user's disk lives on the host under the plane's home, sparse
    const me = (await p.api('GET', '/auth/me', { token })).body.user.id as string;
    const disk = path.join(p.home, 'planes', me, 'disk.ext4');
    expect(statSync(disk).size).toBe(256 * 2 ** 20);
    // the credentials' disk is readable by the control plane's user only
    expect(statSync(path.join(p.home, 'planes', me, 'vm-settings.img')).mode & 0o077).toBe(0);
  }, 90_000);

  it('kill -9 of the VM mid-answer: a new VM on the same disk resumes the run, one done', async () => {
    const { token, sessionId } = await p.chat();
    await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'microvm' } });
    // a file on the user's disk, to be found by the next VM
    const note = await turn(token, sessionId, '/tool run_command {"command":"echo kept > /plane/note.txt && sync"}');
    expect(note.at(-1)!.data).toMatchObject({ status: 'completed' });
    const { instanceId } = (await p.api('GET', '/vm/status', { token })).body;
    const started = await post(p, token, sessionId, '/slow 30 100');
    const events = await follow((signal) => openEvents(p, token, sessionId, note.at(-1)!.id!, signal), { stopWhen: (f) => f.event === 'done' });
    await events.next((f) => f.event === 'text' && f.data.text === 'tok5 ');
    const [victim] = vmsOf(instanceId);
    process.kill(victim!, 'SIGKILL');
    const frames = await events.finished;
    expect(frames.filter((f) => f.event === 'done')).toHaveLength(1);
    expect(clientText(frames)).toBe(slowText(30));
    expect(await waitRun(p, token, started.body.runId, undefined, 60_000)).toMatchObject({ status: 'completed', attempt: 2 });
    const [replacement] = vmsOf(instanceId);
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(victim);
    const after = await turn(token, sessionId, '/tool run_command {"command":"cat /plane/note.txt"}');
    expect((after.find((f) => f.event === 'tool_result')!.data.result as { stdout: string }).stdout).toBe('kept\n');
  }, 180_000);

  it('a restarted control plane kills the VMs the previous one left', async () => {
    const { token, sessionId } = await p.chat();
    await p.api('PATCH', '/auth/me', { token, body: { vmMode: 'microvm' } });
    await turn(token, sessionId, 'before the restart');
    const { instanceId } = (await p.api('GET', '/vm/status', { token })).body;
    expect(vmsOf(instanceId)).toHaveLength(1);
    p = await p.restart('SIGKILL');
    await waitFor(async () => vmsOf(instanceId).length === 0, 15_000);
    expect(clientText(await turn(token, sessionId, 'after'))).toBe('You said: after');
    expect(existsSync(path.join(p.home, 'planes'))).toBe(true);
  }, 120_000);
});
