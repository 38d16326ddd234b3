import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchConfig } from './config.js';
import { expectComplete } from './context.js';
import type { LoadClient } from './load-client.js';
import { call, newSessions, newUser } from './api.js';
import { paths, startControlPlane, type MockProc } from './platform.js';
import { productMessage } from './requests.js';
import { summarize, type Summary } from './stats.js';

/**
 * `npm run bench -- --vm-modes`: cold start (a new user, no plane → first token) per VM mode, side
 * by side on one control plane: `process` (a child process), `docker` (a container from the image
 * deploy/build-plane-image.sh builds from local files) and `microvm` (a QEMU microVM booting what
 * deploy/build-microvm-image.sh builds; SEMIBOT_MICROVM_ACCEL picks kvm or tcg, default tcg: the
 * KVM of the machines this was written on cannot boot a stock kernel). Needs a running Docker
 * engine and QEMU.
 */
const MODES = ['process', 'docker', 'microvm'] as const;
export interface VmModesFigure {
  image: string;
  imageBuildMs: number;
  microvm: { accel: string; imageBuildMs: number };
  coldStartMs: Record<(typeof MODES)[number], { samplesMs: number[]; summary: Summary }>;
}

export async function vmModesBench(o: { cfg: BenchConfig; client: LoadClient; mock: MockProc; samples: number; say: (m: string) => void; disposers: (() => unknown)[] }): Promise<VmModesFigure> {
  const image = 'semibot/plane:bench';
  const t0 = performance.now();
  execFileSync('bash', [path.join(paths.root, 'deploy/build-plane-image.sh'), image], { stdio: 'pipe' });
  const imageBuildMs = performance.now() - t0;
  o.say(`plane image built from local files in ${Math.round(imageBuildMs)} ms`);
  const vmImage = mkdtempSync(path.join(tmpdir(), 'semibot-bench-microvm-'));
  o.disposers.push(() => rmSync(vmImage, { recursive: true, force: true }));
  const t1 = performance.now();
  execFileSync('bash', [path.join(paths.root, 'deploy/build-microvm-image.sh'), vmImage], { stdio: 'pipe' });
  const vmImageBuildMs = performance.now() - t1;
  const accel = process.env.SEMIBOT_MICROVM_ACCEL ?? 'tcg';
  o.say(`microVM kernel + initramfs built from local files in ${Math.round(vmImageBuildMs)} ms (accel ${accel})`);
  const cp = await startControlPlane({
    llmUrl: o.mock.url,
    env: { SEMIBOT_DOCKER_IMAGE: image, SEMIBOT_MICROVM_IMAGE: vmImage, SEMIBOT_MICROVM_ACCEL: accel, VM_CONNECT_TIMEOUT_MS: '60000' },
  });
  o.disposers.push(() => cp.dispose());
  const coldStartMs = { process: [] as number[], docker: [] as number[], microvm: [] as number[] };
  // alternating, so drift on this machine falls on every mode alike
  for (let i = 0; i < o.samples; i++) {
    for (const mode of MODES) {
      const user = await newUser(cp.url);
      await call(cp.url, 'PATCH', '/auth/me', { vmMode: mode }, user.auth);
      const [sessionId] = await newSessions(cp.url, user, 1);
      const report = await o.client.run(
        { type: 'streams', requests: [productMessage(cp.url, user.auth, sessionId!, '/ts 1 0')], dialect: 'semibot', stamped: false, timeoutMs: o.cfg.jobTimeoutMs, concurrency: 1 },
        o.cfg.jobTimeoutMs + 5_000,
      );
      expectComplete(report, 1, `${mode} cold start`);
      coldStartMs[mode].push(report.results[0]!.firstTextMs!);
    }
  }
  for (const mode of MODES) o.say(`${mode} cold start → first token: ${coldStartMs[mode].map((v) => Math.round(v)).join(', ')} ms`);
  return {
    image,
    imageBuildMs,
    microvm: { accel, imageBuildMs: vmImageBuildMs },
    coldStartMs: Object.fromEntries(MODES.map((m) => [m, { samplesMs: coldStartMs[m], summary: summarize(coldStartMs[m]) }])) as VmModesFigure['coldStartMs'],
  };
}
