import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppContext } from '../context.js';
import { openSseCount } from '../events/sse.js';
import { queueLag } from '../store/runs.js';

/**
 * Prometheus metrics. Hot-path counters live as plain numbers in their owners (event log, run
 * engine, gateway) and are read at scrape time, so relaying an event costs no metric call.
 */
export interface Metrics {
  registry: Registry;
  runDuration: Histogram<'status'>;
  llmTokens: Counter<'model' | 'direction'>;
  llmLatency: Histogram<'model'>;
}

/** A counter whose value is read from its owner at scrape time. */
function readCounter(registry: Registry, name: string, help: string, read: () => Record<string, number> | number, label = 'kind') {
  new Counter({
    name,
    help,
    labelNames: typeof read() === 'number' ? [] : [label],
    registers: [registry],
    collect() {
      this.reset();
      const v = read();
      if (typeof v === 'number') this.inc(v);
      else for (const [k, n] of Object.entries(v)) this.inc({ [label]: k }, n);
    },
  });
}

export function createMetrics(ctx: AppContext): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'semibot_' });
  readCounter(registry, 'semibot_events_relayed_total', 'Session events appended to the event log and fanned out', () => ctx.events.count);
  readCounter(registry, 'semibot_runs_total', 'Runs started, by final state, and re-delivered', () => ({ ...ctx.runs.stats, redelivered: ctx.runs.planeLoss.redelivered }), 'state');
  readCounter(registry, 'semibot_ws_frames_total', 'WebSocket frames on /ws/vm by direction and kind', () => ({ ...ctx.gateway.counters }));
  readCounter(registry, 'semibot_plane_requests_total', 'Requests from execution planes served, by method', () => ({ ...ctx.planeRequests }), 'method');
  readCounter(registry, 'semibot_request_cache_hits_total', 'Plane requests answered from the resume cache after a reconnect', () => ctx.gateway.results.hits);
  readCounter(registry, 'semibot_idle_planes_stopped_total', 'Execution planes stopped for being idle', () => ctx.scheduler.idleStops);

  new Gauge({ name: 'semibot_runs_active', help: 'Runs currently driven by this control plane', registers: [registry], collect() { this.set(ctx.runs.activeCount); } });
  new Gauge({ name: 'semibot_planes_connected', help: 'Execution planes connected to this control plane', registers: [registry], collect() { this.set(ctx.gateway.connections().length); } });
  new Gauge({ name: 'semibot_sse_connections', help: 'Open SSE connections', registers: [registry], collect() { this.set(openSseCount()); } });
  new Gauge({
    name: 'semibot_planes',
    help: 'Execution planes by state (user_vm_instances)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await ctx.db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM user_vm_instances GROUP BY status');
      for (const r of rows) this.set({ state: r.status }, Number(r.n));
    },
  });
  // Queue lag: what an autoscaler scales the gateway on (HPA, deploy/kubernetes). The same figure on
  // every replica (the database's view), so any replica's scrape will do.
  let lag: Promise<{ queued: number; oldestSeconds: number }> | null = null;
  const queue = () => (lag ??= queueLag(ctx.db).finally(() => setTimeout(() => (lag = null), 0)));
  new Gauge({ name: 'semibot_run_queue_lag_seconds', help: 'Age of the oldest queued run (0 when none is queued)', registers: [registry], async collect() { this.set((await queue()).oldestSeconds); } });
  new Gauge({ name: 'semibot_runs_queued', help: 'Runs waiting for their session or plane', registers: [registry], async collect() { this.set((await queue()).queued); } });
  readCounter(registry, 'semibot_lease_sweeps_total', 'Lease sweeps, and sessions they dispatched again (a dead replica\'s or a lost kick\'s work)', () => ({ sweeps: ctx.leases?.sweeps ?? 0, dispatched: ctx.leases?.dispatched ?? 0 }));

  // The planes' own figures travel in their heartbeats; labelled by plane.
  const perPlane = (name: string, help: string, read: (c: ReturnType<typeof ctx.gateway.connections>[number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['plane'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of ctx.gateway.connections()) {
          const v = read(c);
          if (v !== null) this.set({ plane: c.instanceId }, v);
        }
      },
    });
  perPlane('semibot_plane_rss_bytes', 'Resident memory of each connected execution plane', (c) => c.rssBytes);
  perPlane('semibot_plane_active_runs', 'Turns running in each connected execution plane', (c) => c.activeRuns);
  perPlane('semibot_plane_sessions', 'Sessions hosted by each connected execution plane', (c) => c.activeSessions);

  return {
    registry,
    runDuration: new Histogram({ name: 'semibot_run_duration_seconds', help: 'Run duration from start to done', labelNames: ['status'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [registry] }),
    llmTokens: new Counter({ name: 'semibot_llm_tokens_total', help: 'LLM tokens by model and direction (in/out)', labelNames: ['model', 'direction'], registers: [registry] }),
    llmLatency: new Histogram({ name: 'semibot_llm_call_seconds', help: 'LLM call latency by model', labelNames: ['model'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60], registers: [registry] }),
  };
}

/** HTTP requests and latency by route (the route pattern, not the URL, so ids do not explode labels). */
export function instrumentHttp(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({ name: 'semibot_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'semibot_http_request_seconds', help: 'HTTP request latency (to the response head for streams)', labelNames: ['method', 'route'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
}
