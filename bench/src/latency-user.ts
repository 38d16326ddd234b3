import { newSessions, newUser } from './api.js';
import type { BenchConfig } from './config.js';
import { expectComplete, type BenchContext } from './context.js';
import type { LoadClient } from './load-client.js';
import type { ControlPlaneProc, MockProc } from './platform.js';
import { childPids } from './procs.js';
import { relayChain } from './hop-floor.js';
import { baselineChat, productMessage } from './requests.js';
import type { RequestSpec } from './sse-client.js';

/**
 * The user every latency and throughput figure runs as: one execution plane hosting one session
 * per concurrent stream, each session warmed by a first turn (plane-side session start and
 * history load happen there, not inside a measured stream). A second round runs every session at
 * once, and as many requests straight to the mock: the load client then holds as many kept-alive
 * connections to each as the largest level needs, so no level's first pass opens connections the
 * later passes reuse (with the first round alone, 145 of the 200 streams of the first pass were new
 * TCP connections to the control plane, and that pass was the slowest of three in 9 runs of 14).
 * The same goes for the two bare proxies each level is also streamed through (the floor).
 */
export async function prepareLatencyUser(cfg: BenchConfig, client: LoadClient, mock: MockProc, cp: ControlPlaneProc): Promise<BenchContext> {
  const maxStreams = Math.max(cfg.throughput.streams, ...cfg.latency.map((l) => l.streams));
  const user = await newUser(cp.url);
  const sessions = await newSessions(cp.url, user, maxStreams);
  const before = new Set(childPids(cp.pid));
  const job = (requests: RequestSpec[], dialect: 'semibot' | 'openai', concurrency: number) =>
    client.run({ type: 'streams', requests, dialect, stamped: false, timeoutMs: cfg.jobTimeoutMs, concurrency }, cfg.jobTimeoutMs + 5_000);
  const turns = () => sessions.map((id) => productMessage(cp.url, user.auth, id, '/echo warm'));
  expectComplete(await job(turns(), 'semibot', 20), 1, 'warm-up');
  expectComplete(await job(turns(), 'semibot', sessions.length), 1, 'connection warm-up');
  expectComplete(await job(sessions.map(() => baselineChat(mock.url, '/echo warm')), 'openai', sessions.length), 1, 'baseline connection warm-up');
  const planePid = childPids(cp.pid).find((pid) => !before.has(pid));
  if (planePid === undefined) throw new Error('the latency user has no execution plane');
  const relays = await relayChain(mock.url, process.env.SEMIBOT_PLANE_SOCKET === 'on' ? 'unix' : 'tcp');
  expectComplete(await job(sessions.map(() => baselineChat(relays.url, '/echo warm')), 'openai', sessions.length), 1, 'relay connection warm-up');
  return { cfg, client, mock, cp, user, sessions, planePid, relays };
}
