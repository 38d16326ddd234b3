import { execFileSync } from 'node:child_process';
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
 * by side on one control plane: `process` (a child process) and `docker` (a container from the
 * image deploy/build-plane-image.sh builds from local files). Needs a running Docker engine.
 */
export interface VmModesFigure {
  image: string;
  imageBuildMs: number;
  coldStartMs: Record<'process' | 'docker', { samplesMs: number[]; summary: Summary }>;
}

export async function vmModesBench(o: { cfg: BenchConfig; client: LoadClient; mock: MockProc; samples: number; say: (m: string) => void; disposers: (() => unknown)[] }): Promise<VmModesFigure> {
  const image = 'semibot/plane:bench';
  const t0 = performance.now();
  execFileSync('bash', [path.join(paths.root, 'deploy/build-plane-image.sh'), image], { stdio: 'pipe' });
  const imageBuildMs = performance.now() - t0;
  o.say(`plane image built from local files in ${Math.round(imageBuildMs)} ms`);
  const cp = await startControlPlane({ llmUrl: o.mock.url, env: { SEMIBOT_DOCKER_IMAGE: image } });
  o.disposers.push(() => cp.dispose());
  const coldStartMs = { process: [] as number[], docker: [] as number[] };
  // alternating, so drift on this machine falls on both modes alike
  for (let i = 0; i < o.samples; i++) {
    for (const mode of ['process', 'docker'] as const) {
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
  for (const mode of ['process', 'docker'] as const) o.say(`${mode} cold start → first token: ${coldStartMs[mode].map((v) => Math.round(v)).join(', ')} ms`);
  return {
    image,
    imageBuildMs,
    coldStartMs: {
      process: { samplesMs: coldStartMs.process, summary: summarize(coldStartMs.process) },
      docker: { samplesMs: coldStartMs.docker, summary: summarize(coldStartMs.docker) },
    },
  };
}
