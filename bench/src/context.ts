import type { BenchUser } from './api.js';
import type { BenchConfig } from './config.js';
import type { StreamsReport } from './client.js';
import type { LoadClient } from './load-client.js';
import type { ControlPlaneProc, MockProc } from './platform.js';
import type { RelayChain } from './hop-floor.js';
import type { GcLog } from './gc-pauses.js';

/** What every measurement gets: the processes under test and the load client. */
export interface BenchContext {
  cfg: BenchConfig;
  client: LoadClient;
  mock: MockProc;
  cp: ControlPlaneProc;
  /** the latency user: one execution plane, one warmed session per concurrent stream */
  user: BenchUser;
  sessions: string[];
  /** pid of the latency user's execution plane */
  planePid: number;
  /** two bare proxies in front of the mock: the floor under each latency level (hop-floor.ts) */
  relays: RelayChain;
  /** `--gc-pauses`: where the control plane and its planes log their collections */
  gcLog?: GcLog;
}

/**
 * Every stream must have completed with exactly the tokens asked for: a figure computed over
 * failed or truncated streams would be meaningless, so the run stops instead.
 */
export function expectComplete(report: StreamsReport, tokens: number, what: string): void {
  const bad = report.results.findIndex((r) => r.error !== null || !r.done || r.textFrames !== tokens);
  if (bad === -1) return;
  const r = report.results[bad]!;
  throw new Error(
    `${what}: stream ${bad} failed (status ${r.status}, done ${r.done}, ${r.textFrames}/${tokens} text frames, error ${r.error ?? 'none'})`,
  );
}
