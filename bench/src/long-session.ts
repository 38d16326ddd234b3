import { newSessions } from './api.js';
import { expectComplete, type BenchContext } from './context.js';
import { bytesWritten, cpuMs } from './procs.js';
import { productMessage } from './requests.js';
import { summarize } from './stats.js';

/**
 * Does a turn cost more as its session grows? One fresh session takes `turns` sequential turns of
 * a 50-token answer (~0.9 KB); the second and the last tenth are measured: CPU per turn of the control plane
 * (all threads, its database among them) and of the plane, and POST → `done`. A turn whose work
 * carries the whole history (a snapshot, a rewritten transcript, a checkpoint) shows it here as a
 * last tenth dearer than the first.
 */

export interface LongSessionWindow {
  /** turns before this window's first */
  from: number;
  turns: number;
  cpuUsPerTurn: { controlPlane: number; plane: number };
  /**
   * Bytes written per turn (/proc wchar: files and sockets). The plane's include the model request,
   * which carries the whole history by the API's design; the control plane's include its database.
   */
  bytesPerTurn: { controlPlane: number; plane: number };
  doneMsP50: number;
}

export interface LongSessionFigure {
  turns: number;
  first: LongSessionWindow;
  last: LongSessionWindow;
}

const CONTENT = '/ts 50 0';

export async function longSession(ctx: BenchContext, turns: number): Promise<LongSessionFigure> {
  const [sessionId] = await newSessions(ctx.cp.url, ctx.user, 1);
  const window = Math.max(1, Math.floor(turns / 10));
  const run = async (count: number, measured: boolean, from: number): Promise<LongSessionWindow | null> => {
    const cp0 = cpuMs(ctx.cp.pid);
    const plane0 = cpuMs(ctx.planePid);
    const [cpBytes0, planeBytes0] = [bytesWritten(ctx.cp.pid), bytesWritten(ctx.planePid)];
    const report = await ctx.client.run(
      {
        type: 'streams',
        requests: Array.from({ length: count }, () => productMessage(ctx.cp.url, ctx.user.auth, sessionId!, CONTENT)),
        dialect: 'semibot',
        stamped: false,
        timeoutMs: ctx.cfg.jobTimeoutMs,
        concurrency: 1,
      },
      ctx.cfg.jobTimeoutMs + 5_000,
    );
    expectComplete(report, 50, `long session, turns ${from}–${from + count}`);
    if (!measured) return null;
    const perTurn = (a: number, b: number) => ((b - a) * 1000) / count;
    return {
      from,
      turns: count,
      cpuUsPerTurn: { controlPlane: perTurn(cp0, cpuMs(ctx.cp.pid)), plane: perTurn(plane0, cpuMs(ctx.planePid)) },
      bytesPerTurn: {
        controlPlane: (bytesWritten(ctx.cp.pid) - cpBytes0) / count,
        plane: (bytesWritten(ctx.planePid) - planeBytes0) / count,
      },
      doneMsP50: summarize(report.results.map((r) => r.totalMs)).p50,
    };
  };
  // the first tenth is not measured: the session starts on the plane, the control plane's code for
  // this kind of turn warms up (the first turns measured 2–3× dearer than the second tenth)
  await run(window, false, 0);
  const first = (await run(window, true, window))!;
  await run(turns - 3 * window, false, 2 * window);
  const last = (await run(window, true, turns - window))!;
  return { turns, first, last };
}
