import type { Logger } from 'pino';
import type { ErrorCode, ExecutionMode, FinalRunStatus, LlmConfig } from '@semibot/protocol';
import type { Bus } from '../cluster/cluster.js';
import type { Db } from '../db/db.js';
import type { Delivery, Run } from '../store/runs.js';
import { DirectRunner } from './direct-run.js';
import { ExecutionMonitor, type MonitorThresholds } from './execution-monitor.js';

export interface ExecutionOptions {
  db: Db;
  logger: Logger;
  llm: () => LlmConfig;
  /** the deployment's default (SEMIBOT_EXECUTION_MODE) */
  defaultMode: ExecutionMode;
  /** orgs that run through planes while the default is `direct` (SEMIBOT_RUNTIME_ORGS: the seeds' whitelist) */
  runtimeOrgs: ReadonlySet<string>;
  /** the monitor may send runs direct (off: it only keeps metrics) */
  fallback: boolean;
  /** when no plane can start for a run, run it direct instead of failing it */
  fallbackWhenNoPlane: boolean;
  thresholds: MonitorThresholds;
  /** with several replicas: a scope's switch is announced to the others, theirs adopted here */
  bus?: Bus;
}

/** How a run is executed, decided once per delivery. */
export interface ExecutionPath {
  mode: ExecutionMode;
  /** why a run meant for a plane goes direct; null when direct is simply its setting */
  reason: string | null;
  /** the half-open probe of a scope in fallback */
  probe: boolean;
  startedMs: number;
}

/** Codes that say the runtime path itself failed (not the model, not the user's input). */
const RUNTIME_FAILURES: ReadonlySet<ErrorCode> = new Set(['VM_UNAVAILABLE', 'VM_START_FAILED', 'VM_DISCONNECTED', 'RUNTIME_ERROR', 'RUN_INTERRUPTED', 'OPENCLAW_BRIDGE_EXITED']);
/** a plane that never came is a timeout of the runtime path */
const TIMEOUTS: ReadonlySet<ErrorCode> = new Set(['VM_UNAVAILABLE']);

/**
 * The two execution paths and the choice between them: the chain user > org (> the whitelist) >
 * default, then the fallback monitor for runs that would go through a plane.
 */
export class ExecutionPaths {
  readonly monitor: ExecutionMonitor;
  readonly direct: DirectRunner;

  constructor(private readonly o: ExecutionOptions) {
    this.direct = new DirectRunner(o.db, o.llm);
    this.monitor = new ExecutionMonitor(o.thresholds, (scope, s) => {
      o.logger.warn({ scope, fallback: s.fallbackEnabled, reason: s.fallbackReason }, s.fallbackEnabled ? 'runtime path degraded: runs go direct' : 'runtime path back: runs go through planes');
      o.bus?.broadcast({ type: 'fallback', scope, state: s }).catch((err: Error) => o.logger.warn({ err }, 'fallback switch not announced'));
    });
    o.bus?.onBroadcast((msg) => {
      if (msg.type !== 'fallback') return;
      o.logger.info({ scope: msg.scope, fallback: msg.state.fallbackEnabled, reason: msg.state.fallbackReason }, 'fallback switch of another replica adopted');
      this.monitor.adopt(msg.scope, msg.state);
    });
  }

  /** The mode a run's settings ask for (before the monitor has its say). */
  configured(orgId: string, d: Pick<Delivery, 'executionMode'>): ExecutionMode {
    return d.executionMode ?? (this.o.runtimeOrgs.has(orgId) ? 'runtime' : this.o.defaultMode);
  }

  choose(run: Run, d: Delivery): ExecutionPath {
    const startedMs = Date.now();
    if (this.configured(run.orgId, d) === 'direct') return { mode: 'direct', reason: null, probe: false, startedMs };
    if (!this.o.fallback) return { mode: 'runtime', reason: null, probe: false, startedMs };
    return { ...this.monitor.route(run.orgId), startedMs };
  }

  /** No plane could start for the run: counted, and (if so configured) the run goes direct instead. */
  planeUnavailable(run: Run, path: ExecutionPath, code: ErrorCode, message: string): ExecutionPath | null {
    if (!RUNTIME_FAILURES.has(code)) return null;
    this.monitor.record(run.orgId, 'runtime', { ok: false, timeout: TIMEOUTS.has(code), latencyMs: Date.now() - path.startedMs });
    if (!this.o.fallbackWhenNoPlane || (code !== 'VM_UNAVAILABLE' && code !== 'VM_START_FAILED')) return null;
    return { mode: 'direct', reason: `no execution plane could start: ${message}`, probe: false, startedMs: Date.now() };
  }

  /** A run ended: its outcome joins its path's window. Cancels and model failures say nothing about the path. */
  finished(run: Run, path: ExecutionPath, status: FinalRunStatus, code: ErrorCode | null): void {
    const neutral = status === 'cancelled' || (status === 'failed' && path.mode === 'runtime' && (code === null || !RUNTIME_FAILURES.has(code)));
    if (neutral) {
      if (path.probe) this.monitor.abandonProbe(run.orgId); // it proved nothing: the next run probes
      return;
    }
    const latencyMs = Date.now() - path.startedMs;
    const timeout = (code !== null && TIMEOUTS.has(code)) || latencyMs > this.o.thresholds.timeoutMs;
    this.monitor.record(run.orgId, path.mode, { ok: status === 'completed' && !timeout, timeout, latencyMs });
  }
}
