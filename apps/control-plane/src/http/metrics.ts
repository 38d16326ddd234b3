import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppContext } from '../context.js';

/**
 * Prometheus metrics. Hot-path counters live as plain numbers in their owners (event log, run
 * engine, gateway) and are read at scrape time, so relaying an event costs no metric call.
 */
export function createMetrics(ctx: Omit<AppContext, 'metrics'>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'semibot_' });
  new Counter({
    name: 'semibot_events_relayed_total',
    help: 'Session events appended to the event log and fanned out',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(ctx.events.count);
    },
  });
  new Counter({
    name: 'semibot_runs_total',
    help: 'Runs by final state (and started)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [state, n] of Object.entries(ctx.runs.stats)) this.inc({ state }, n);
      this.inc({ state: 'redelivered' }, ctx.runs.planeLoss.redelivered);
    },
  });
  new Gauge({
    name: 'semibot_runs_active',
    help: 'Runs currently driven by this control plane',
    registers: [registry],
    collect() {
      this.set(ctx.runs.activeCount);
    },
  });
  new Gauge({
    name: 'semibot_planes_connected',
    help: 'Execution planes connected to this control plane',
    registers: [registry],
    collect() {
      this.set(ctx.gateway.connections().length);
    },
  });
  new Counter({
    name: 'semibot_ws_frames_total',
    help: 'WebSocket frames on /ws/vm by direction and kind',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(ctx.gateway.counters)) this.inc({ kind }, n);
    },
  });
  new Counter({
    name: 'semibot_plane_requests_total',
    help: 'Requests from execution planes served, by method (get_skill_package, mcp_call, ...)',
    labelNames: ['method'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [method, n] of Object.entries(ctx.planeRequests)) this.inc({ method }, n);
    },
  });
  return registry;
}
