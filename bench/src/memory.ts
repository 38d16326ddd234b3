import { newSessions, type BenchUser } from './api.js';
import { expectComplete, type BenchContext } from './context.js';
import { settledRss } from './procs.js';
import { productMessage, sessionEvents } from './requests.js';

/** Resident memory, read from /proc after it settles: deltas over many connections or sessions. */

export interface ConnectionMemory {
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  perConnectionBytes: number;
}

/** Idle GET /events connections held open by the load client, spread over the latency sessions. */
export async function sseConnectionMemory(ctx: BenchContext): Promise<ConnectionMemory> {
  const n = ctx.cfg.sseConnections;
  const rssBeforeBytes = await settledRss(ctx.cp.pid);
  const requests = Array.from({ length: n }, (_, i) => sessionEvents(ctx.cp.url, ctx.user.auth, ctx.sessions[i % ctx.sessions.length]!));
  await ctx.client.run({ type: 'hold', requests, timeoutMs: 10_000 }, ctx.cfg.jobTimeoutMs);
  const rssAfterBytes = await settledRss(ctx.cp.pid);
  await ctx.client.run({ type: 'release' }, 10_000);
  return { connections: n, rssBeforeBytes, rssAfterBytes, perConnectionBytes: (rssAfterBytes - rssBeforeBytes) / n };
}

export interface PlaneMemory {
  idleRssBytes: number;
  sessions: number;
  rssAfterBytes: number;
  perSessionBytes: number;
}

/**
 * One plane that has served a single turn (idle), then `idleSessions` more sessions of the same
 * user, each with one short turn so the plane really hosts it.
 */
export async function planeMemory(
  ctx: Pick<BenchContext, 'cp' | 'client' | 'cfg'>,
  user: BenchUser,
  planePid: number,
): Promise<PlaneMemory> {
  const n = ctx.cfg.idleSessions;
  const idleRssBytes = await settledRss(planePid);
  const ids = await newSessions(ctx.cp.url, user, n);
  const report = await ctx.client.run(
    {
      type: 'streams',
      requests: ids.map((id) => productMessage(ctx.cp.url, user.auth, id, '/echo hi')),
      dialect: 'semibot',
      stamped: false,
      timeoutMs: ctx.cfg.jobTimeoutMs,
      concurrency: 10,
    },
    ctx.cfg.jobTimeoutMs + 5_000,
  );
  expectComplete(report, 1, 'idle sessions');
  const rssAfterBytes = await settledRss(planePid);
  return { idleRssBytes, sessions: n, rssAfterBytes, perSessionBytes: (rssAfterBytes - idleRssBytes) / n };
}
