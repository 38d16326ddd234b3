import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { BenchConfig, LatencyLevel } from './config.js';
import type { BenchContext } from './context.js';
import { prepareLatencyUser } from './latency-user.js';
import { tokenLatencyPasses, type LatencyFigure } from './latency.js';
import type { LoadClient } from './load-client.js';
import { startControlPlane, type ControlPlaneProc, type MockProc } from './platform.js';
import { cpuMs } from './procs.js';
import { relayThroughput } from './throughput.js';

/**
 * `npm run bench -- --ha`: what running as replicas costs, side by side in one run, on the same
 * PostgreSQL server, mock model and load client:
 *  - `1 replica`: one control plane on PostgreSQL, no Redis (the single-node code path);
 *  - `3 replicas, same`: three replicas on PostgreSQL + Redis; the client streams from the replica
 *    that hosts the plane (every event takes the fenced append to the Redis tail first);
 *  - `3 replicas, other`: the client posts to and streams from another replica (the message is
 *    routed over the bus, every event reaches the client through Redis pub/sub).
 * No load balancer in front: its own hop is not the product's.
 */

export interface HaConfigFigure {
  name: string;
  latency: LatencyFigure[];
  relay: { eventsPerSec: number; events: number; wallMs: number; cpuUsPerEventAllReplicas: number; redisCpuUsPerEvent: number | null };
}

export interface HaFigures {
  databaseUrl: string;
  redisUrl: string;
  configs: HaConfigFigure[];
}

export const HA_LEVELS: LatencyLevel[] = [
  { streams: 1, tokens: 200, delayMs: 5 },
  { streams: 20, tokens: 100, delayMs: 5 },
];

async function freshDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: serverUrl });
  admin.on('error', () => {}); // a terminated idle connection at the end is expected
  await admin.connect();
  const name = `semibot_bench_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end();
    },
  };
}

async function measure(name: string, ctx: BenchContext, replicas: ControlPlaneProc[], say: (m: string) => void): Promise<HaConfigFigure> {
  const latency: LatencyFigure[] = [];
  for (const level of HA_LEVELS) {
    latency.push(await tokenLatencyPasses(ctx, level, 1));
    const a = latency.at(-1)!.addedMs;
    say(`${name}: ${level.streams} streams added p50 ${a.p50.toFixed(2)} ms, p99 ${a.p99.toFixed(2)} ms`);
  }
  const cpu = () => replicas.reduce((n, r) => n + cpuMs(r.pid), 0);
  // the Redis server's own share, when it runs on this machine (it does in CI and here)
  const redis = redisPid();
  const redisCpu = () => (redis === null ? 0 : cpuMs(redis));
  const [before, redisBefore] = [cpu(), redisCpu()];
  const r = await relayThroughput(ctx);
  const cpuUsPerEventAllReplicas = ((cpu() - before) * 1000) / r.events;
  const redisCpuUsPerEvent = redis === null ? null : ((redisCpu() - redisBefore) * 1000) / r.events;
  say(`${name}: relay ${Math.round(r.eventsPerSec)} events/s, ${cpuUsPerEventAllReplicas.toFixed(1)} µs CPU/event over the replicas, Redis ${redisCpuUsPerEvent?.toFixed(1) ?? '?'} µs`);
  return { name, latency, relay: { eventsPerSec: r.eventsPerSec, events: r.events, wallMs: r.wallMs, cpuUsPerEventAllReplicas, redisCpuUsPerEvent } };
}

function redisPid(): number | null {
  try {
    const pid = Number(execFileSync('pgrep', ['-x', 'redis-server']).toString().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export async function haBench(o: {
  cfg: BenchConfig;
  client: LoadClient;
  mock: MockProc;
  databaseUrl: string;
  redisUrl: string;
  say: (m: string) => void;
  disposers: (() => unknown)[];
}): Promise<HaFigures> {
  const cfg: BenchConfig = { ...o.cfg, latency: HA_LEVELS, throughput: { streams: 20, tokens: o.cfg.smoke ? 200 : 2000 } };
  const configs: HaConfigFigure[] = [];

  const single = await freshDatabase(o.databaseUrl);
  o.disposers.push(() => single.drop());
  const one = await startControlPlane({ llmUrl: o.mock.url, env: { DATABASE_URL: single.url } });
  const oneCtx = await prepareLatencyUser(cfg, o.client, o.mock, one);
  configs.push(await measure('1 replica', oneCtx, [one], o.say));
  await one.dispose();

  const shared = await freshDatabase(o.databaseUrl);
  o.disposers.push(() => shared.drop());
  const env = { DATABASE_URL: shared.url, REDIS_URL: o.redisUrl, JWT_SECRET: randomBytes(24).toString('hex') };
  const first = await startControlPlane({ llmUrl: o.mock.url, env }); // migrates the database
  const replicas = [first, ...(await Promise.all([1, 2].map(() => startControlPlane({ llmUrl: o.mock.url, env }))))];
  for (const r of replicas) o.disposers.push(() => r.dispose());
  // the user's plane starts on (and is hosted by) the first replica: its warm-up turns go there
  const same = await prepareLatencyUser(cfg, o.client, o.mock, first);
  configs.push(await measure('3 replicas, same', same, replicas, o.say));
  // the same user and sessions through the second replica: routed to the first, streamed back via Redis
  const other: BenchContext = { ...same, cp: { ...replicas[1]!, pid: replicas[1]!.pid } };
  configs.push(await measure('3 replicas, other', other, replicas, o.say));
  return { databaseUrl: o.databaseUrl.replace(/\/\/[^@]*@/, '//'), redisUrl: o.redisUrl, configs };
}

/** The side-by-side table of an --ha run. */
export function formatHa(f: HaFigures): string {
  const head = ['configuration', ...HA_LEVELS.flatMap((l) => [`${l.streams} stream${l.streams > 1 ? 's' : ''} added p50`, 'p99']), 'relay events/s', 'CPU µs/event: replicas', 'Redis'];
  const lines = f.configs.map((c) => [
    c.name,
    ...c.latency.flatMap((l) => [l.addedMs.p50.toFixed(2), l.addedMs.p99.toFixed(2)]),
    String(Math.round(c.relay.eventsPerSec)),
    c.relay.cpuUsPerEventAllReplicas.toFixed(1),
    c.relay.redisCpuUsPerEvent?.toFixed(1) ?? '—',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [row(head), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}
