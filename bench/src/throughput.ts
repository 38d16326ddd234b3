import { expectComplete, type BenchContext } from './context.js';
import { cpuMs } from './procs.js';
import { productMessage } from './requests.js';

/**
 * Relay throughput: many sessions streaming `/ts N 0` (the mock writes every token at once), so
 * the chain runs flat out. Reports what clients received per second, and the CPU each process
 * spent per delivered event (from /proc, utime + stime) — the control plane's figure is what
 * bounds one control-plane process when the planes run elsewhere.
 */

export interface ThroughputFigure {
  streams: number;
  tokensPerStream: number;
  events: number;
  wallMs: number;
  /** text events received by clients per second, end to end on this machine */
  eventsPerSec: number;
  /** CPU µs per delivered event (each process with all its threads) */
  cpuUsPerEvent: { controlPlane: number; plane: number; mock: number; client: number };
  /**
   * The control plane's main thread alone: the relay runs there; its other threads (embedded
   * PGlite, GC helpers, libuv's pool) work beside it.
   */
  controlPlaneMainThreadUsPerEvent: number;
  /** 1 s / the control plane's CPU per event (all threads): its ceiling if it had one core to itself */
  controlPlaneCapacityPerSec: number;
  /** 1 s / the main thread's CPU per event: the relay's own ceiling when its other threads have a second core */
  controlPlaneMainThreadCapacityPerSec: number;
}

export async function relayThroughput(ctx: BenchContext): Promise<ThroughputFigure> {
  const { streams, tokens } = ctx.cfg.throughput;
  const content = `/ts ${tokens} 0`;
  const pids = { controlPlane: ctx.cp.pid, plane: ctx.planePid, mock: ctx.mock.pid, client: ctx.client.pid };
  const cpu = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)])) as Record<keyof typeof pids, number>;
  const mainThread = () => cpuMs(ctx.cp.pid, ctx.cp.pid);
  const before = cpu();
  const mainBefore = mainThread();
  const report = await ctx.client.run(
    {
      type: 'streams',
      requests: ctx.sessions.slice(0, streams).map((id) => productMessage(ctx.cp.url, ctx.user.auth, id, content)),
      dialect: 'semibot',
      stamped: false,
      timeoutMs: ctx.cfg.jobTimeoutMs,
      concurrency: streams,
    },
    ctx.cfg.jobTimeoutMs + 5_000,
  );
  const after = cpu();
  const mainAfter = mainThread();
  expectComplete(report, tokens, 'relay throughput');
  const events = report.results.reduce((n, r) => n + r.textFrames, 0);
  const per = (k: keyof typeof pids) => ((after[k] - before[k]) * 1000) / events;
  const mainUs = ((mainAfter - mainBefore) * 1000) / events;
  const cpuUsPerEvent = { controlPlane: per('controlPlane'), plane: per('plane'), mock: per('mock'), client: per('client') };
  return {
    streams,
    tokensPerStream: tokens,
    events,
    wallMs: report.wallMs,
    eventsPerSec: events / (report.wallMs / 1000),
    cpuUsPerEvent,
    controlPlaneMainThreadUsPerEvent: mainUs,
    controlPlaneCapacityPerSec: 1e6 / cpuUsPerEvent.controlPlane,
    controlPlaneMainThreadCapacityPerSec: 1e6 / mainUs,
  };
}
