import type { ExecutionMode } from '@semibot/protocol';

/** One finished run, as the monitor counts it. */
export interface RunOutcome {
  ok: boolean;
  /** it ran out of time (its plane never came, or it took longer than the timeout) */
  timeout: boolean;
  latencyMs: number;
}

export interface MonitorThresholds {
  /** the sliding window, ms */
  windowMs: number;
  /** runs a window needs before it can trip */
  minRuns: number;
  /** error rate (0–1) above which the runtime path is degraded */
  errorRate: number;
  /** timeout rate (0–1) above which the runtime path is degraded */
  timeoutRate: number;
  /** a run's timeout, ms; a mean latency above 80 % of it is degraded too */
  timeoutMs: number;
  /** in fallback, the first run after this long goes through a plane again as a probe, ms */
  probeAfterMs: number;
}

export interface PathStats {
  total: number;
  success: number;
  error: number;
  timeout: number;
  avgLatencyMs: number;
  errorRate: number;
  timeoutRate: number;
}

export interface FallbackState {
  fallbackEnabled: boolean;
  fallbackReason: string;
  /** ISO time it switched to direct */
  since: string | null;
  /** ISO time the next probe through a plane may go */
  probeAt: string | null;
}

export interface ScopeMetrics extends FallbackState {
  windowMs: number;
  direct: PathStats;
  runtime: PathStats;
}

/**
 * Outcomes of the last `ms`, with running sums: stats() is read on every finished run (global and
 * per org), and a scan of the window each time cost the relay more than the run itself under a
 * burst of 200 runs (npm run bench, CPU profile of the control plane).
 */
class Window {
  private items: Array<RunOutcome & { at: number }> = [];
  /** items before this index have left the window */
  private head = 0;
  private success = 0;
  private timeout = 0;
  private latencySum = 0;
  constructor(private readonly ms: number) {}
  add(at: number, o: RunOutcome): void {
    this.items.push({ ...o, at });
    this.count(o, 1);
  }
  clear(): void {
    this.items = [];
    this.head = this.success = this.timeout = this.latencySum = 0;
  }
  stats(now: number): PathStats {
    this.expire(now);
    const total = this.items.length - this.head;
    const error = total - this.success;
    const avgLatencyMs = total ? this.latencySum / total : 0;
    return {
      total,
      success: this.success,
      error,
      timeout: this.timeout,
      avgLatencyMs: Math.round(avgLatencyMs),
      errorRate: total ? error / total : 0,
      timeoutRate: total ? this.timeout / total : 0,
    };
  }
  private count(o: RunOutcome, sign: 1 | -1): void {
    if (o.ok) this.success += sign;
    if (o.timeout) this.timeout += sign;
    this.latencySum += sign * o.latencyMs;
  }
  private expire(now: number): void {
    while (this.head < this.items.length && this.items[this.head]!.at < now - this.ms) this.count(this.items[this.head++]!, -1);
    // drop the expired prefix once it is most of the array, so memory follows the window
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

class Scope {
  readonly runtime: Window;
  readonly direct: Window;
  fallback: { reason: string; since: number; probeAt: number } | null = null;
  probing = false;
  constructor(windowMs: number) {
    this.runtime = new Window(windowMs);
    this.direct = new Window(windowMs);
  }
}

const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

/**
 * The sliding-window monitor of seeds 002/003, globally and per org: error rate, timeout rate and
 * mean latency of the runtime path (runs through planes). When a scope degrades, runs of that scope
 * go `direct` (the control plane streams them from the LLM) with the reason recorded; after
 * `probeAfterMs` one run goes through a plane again, and its success switches the scope back (a
 * circuit breaker's half-open state: in fallback no runtime traffic would ever show recovery).
 *
 * The windows are each replica's own (the runs it drives); a switch either way is announced over
 * the cluster bus and adopted by the other replicas (`adopt`), so a degraded scope goes direct on
 * all of them, and one probe or reset anywhere brings it back everywhere.
 */
export class ExecutionMonitor {
  private readonly global: Scope;
  private readonly orgs = new Map<string, Scope>();

  constructor(
    private readonly t: MonitorThresholds,
    private readonly onChange: (scope: string, state: FallbackState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.global = new Scope(t.windowMs);
  }

  private org(orgId: string): Scope {
    let s = this.orgs.get(orgId);
    if (!s) this.orgs.set(orgId, (s = new Scope(this.t.windowMs)));
    return s;
  }

  /**
   * Where a run meant for a plane should go. `probe`: it is the half-open probe of a scope in
   * fallback (its outcome decides whether the scope recovers).
   */
  route(orgId: string): { mode: ExecutionMode; reason: string | null; probe: boolean } {
    const now = this.now();
    const tripped = ([['platform-wide', this.global], ["this org's", this.org(orgId)]] as const).filter(([, s]) => s.fallback);
    if (tripped.length === 0) return { mode: 'runtime', reason: null, probe: false };
    // one probe at a time, once every tripped scope is due: its outcome speaks for all of them
    if (tripped.every(([, s]) => !s.probing && now >= s.fallback!.probeAt)) {
      for (const [, s] of tripped) s.probing = true;
      return { mode: 'runtime', reason: null, probe: true };
    }
    const [name, s] = tripped[0]!;
    return { mode: 'direct', reason: `${name} runtime path degraded: ${s.fallback!.reason}`, probe: false };
  }

  record(orgId: string, path: ExecutionMode, o: RunOutcome): void {
    const now = this.now();
    for (const [name, s] of [['global', this.global], [orgId, this.org(orgId)]] as const) {
      (path === 'runtime' ? s.runtime : s.direct).add(now, o);
      if (path !== 'runtime') continue;
      if (s.fallback && s.probing) {
        s.probing = false;
        if (o.ok) {
          s.fallback = null;
          s.runtime.clear(); // the failures that tripped it are history now
          s.runtime.add(now, o);
          this.onChange(name, this.state(s));
        } else {
          s.fallback.probeAt = now + this.t.probeAfterMs;
        }
        continue;
      }
      if (!s.fallback) {
        const reason = this.degraded(s.runtime.stats(now));
        if (reason) {
          s.fallback = { reason, since: now, probeAt: now + this.t.probeAfterMs };
          this.onChange(name, this.state(s));
        }
      }
    }
  }

  /**
   * Another replica switched a scope: take its decision (the windows stay each replica's own, the
   * decision is shared, so all replicas send a degraded org's runs the same way). Not re-announced.
   */
  adopt(scope: string, state: FallbackState): void {
    const s = scope === 'global' ? this.global : this.org(scope);
    s.probing = false;
    if (state.fallbackEnabled) {
      const now = this.now();
      s.fallback = {
        reason: state.fallbackReason,
        since: state.since ? Date.parse(state.since) : now,
        probeAt: state.probeAt ? Date.parse(state.probeAt) : now + this.t.probeAfterMs,
      };
    } else {
      s.fallback = null;
      s.runtime.clear(); // the cause was fixed (a probe passed, or an admin reset it)
    }
  }

  /** A probe ended without telling (cancelled, or the model failed): the next run probes instead. */
  abandonProbe(orgId: string): void {
    for (const s of [this.global, this.org(orgId)]) s.probing = false;
  }

  /** The reason the runtime path counts as degraded, or null. */
  private degraded(st: PathStats): string | null {
    if (st.total < this.t.minRuns) return null;
    const over = `over the last ${st.total} runs`;
    if (st.errorRate > this.t.errorRate) return `error rate ${pct(st.errorRate)} > ${pct(this.t.errorRate)} ${over}`;
    if (st.timeoutRate > this.t.timeoutRate) return `timeout rate ${pct(st.timeoutRate)} > ${pct(this.t.timeoutRate)} ${over}`;
    if (st.avgLatencyMs > 0.8 * this.t.timeoutMs) return `mean latency ${st.avgLatencyMs} ms > 80% of the ${this.t.timeoutMs} ms timeout ${over}`;
    return null;
  }

  private state(s: Scope): FallbackState {
    return {
      fallbackEnabled: s.fallback !== null,
      fallbackReason: s.fallback?.reason ?? '',
      since: s.fallback ? new Date(s.fallback.since).toISOString() : null,
      probeAt: s.fallback ? new Date(s.fallback.probeAt).toISOString() : null,
    };
  }

  metrics(orgId?: string): ScopeMetrics {
    const s = orgId === undefined ? this.global : this.org(orgId);
    const now = this.now();
    return { windowMs: this.t.windowMs, direct: s.direct.stats(now), runtime: s.runtime.stats(now), ...this.state(s) };
  }

  /** The fallback state of the platform and of one org. */
  status(orgId: string): { global: FallbackState; org: FallbackState } {
    return { global: this.state(this.global), org: this.state(this.org(orgId)) };
  }

  /** Back to the runtime path now, with a fresh window (an operator fixed the cause). */
  reset(orgId: string | null): void {
    const scopes = orgId === null ? [this.global] : [this.org(orgId)];
    for (const s of scopes) {
      s.fallback = null;
      s.probing = false;
      s.runtime.clear();
      this.onChange(orgId ?? 'global', this.state(s));
    }
  }
}
