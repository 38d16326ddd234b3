import { describe, expect, it } from 'vitest';
import { ExecutionMonitor, type MonitorThresholds } from './execution-monitor.js';

const T: MonitorThresholds = { windowMs: 60_000, minRuns: 3, errorRate: 0.5, timeoutRate: 0.3, timeoutMs: 10_000, probeAfterMs: 5_000 };
const ok = { ok: true, timeout: false, latencyMs: 100 };
const bad = { ok: false, timeout: false, latencyMs: 100 };

function monitor() {
  let now = 1_000_000;
  const changes: string[] = [];
  const m = new ExecutionMonitor(T, (scope, s) => changes.push(`${scope}:${s.fallbackEnabled}`), () => now);
  return { m, changes, advance: (ms: number) => (now += ms) };
}

describe('ExecutionMonitor', () => {
  it('needs minRuns before it judges, then trips on the error rate with the reason', () => {
    const { m, changes } = monitor();
    m.record('o1', 'runtime', bad);
    m.record('o1', 'runtime', bad);
    expect(m.route('o1').mode).toBe('runtime');
    m.record('o1', 'runtime', ok); // the third run: 2 of 3 failed, 67% > 50%
    expect(m.metrics('o1').fallbackEnabled).toBe(true);
    expect(m.route('o1')).toMatchObject({ mode: 'direct', reason: expect.stringContaining('error rate 67% > 50% over the last 3 runs') });
    expect(changes).toEqual(['global:true', 'o1:true']);
  });

  it('trips on the timeout rate and on a mean latency above 80% of the timeout', () => {
    const a = monitor();
    for (let i = 0; i < 3; i++) a.m.record('o', 'runtime', { ok: i > 0, timeout: i === 0, latencyMs: 10 });
    expect(a.m.metrics().fallbackReason).toMatch(/timeout rate 33% > 30%/);
    const b = monitor();
    for (let i = 0; i < 3; i++) b.m.record('o', 'runtime', { ok: true, timeout: false, latencyMs: 9_000 });
    expect(b.m.metrics().fallbackReason).toMatch(/mean latency 9000 ms > 80% of the 10000 ms timeout/);
  });

  it('forgets outcomes older than the window', () => {
    const { m, advance } = monitor();
    m.record('o', 'runtime', bad);
    m.record('o', 'runtime', bad);
    advance(61_000);
    m.record('o', 'runtime', bad);
    expect(m.metrics().runtime.total).toBe(1);
    expect(m.metrics().fallbackEnabled).toBe(false);
  });

  it('one org tripping its own scope does not send another org direct', () => {
    const { m } = monitor();
    for (let i = 0; i < 3; i++) m.record('o1', 'runtime', bad);
    for (let i = 0; i < 5; i++) m.record('o2', 'runtime', ok);
    m.reset(null); // the platform's window is cleared: only o1's own scope is tripped
    expect(m.route('o1').mode).toBe('direct');
    expect(m.route('o2').mode).toBe('runtime');
  });

  it('half-open: after probeAfterMs one run probes; success closes, failure waits another interval', () => {
    const { m, advance } = monitor();
    for (let i = 0; i < 3; i++) m.record('o', 'runtime', bad);
    expect(m.route('o').mode).toBe('direct');
    advance(5_000);
    expect(m.route('o')).toMatchObject({ mode: 'runtime', probe: true });
    expect(m.route('o').mode).toBe('direct'); // only one probe at a time
    m.record('o', 'runtime', bad);
    expect(m.route('o').mode).toBe('direct');
    advance(5_000);
    expect(m.route('o').probe).toBe(true);
    m.record('o', 'runtime', ok);
    expect(m.route('o')).toMatchObject({ mode: 'runtime', probe: false });
    expect(m.status('o').global.fallbackEnabled).toBe(false);
  });

  it('an abandoned probe lets the next run probe; direct outcomes count only in their own stats', () => {
    const { m, advance } = monitor();
    for (let i = 0; i < 3; i++) m.record('o', 'runtime', bad);
    advance(5_000);
    expect(m.route('o').probe).toBe(true);
    m.abandonProbe('o');
    expect(m.route('o').probe).toBe(true);
    m.record('o', 'direct', ok);
    expect(m.metrics('o').direct).toMatchObject({ total: 1, success: 1 });
    expect(m.metrics('o').runtime.total).toBe(3);
  });

  it("adopts another replica's switch without announcing it again", () => {
    const { m, changes } = monitor();
    m.adopt('o', { fallbackEnabled: true, fallbackReason: 'error rate 100% > 50% over the last 3 runs', since: new Date(1_000_000).toISOString(), probeAt: new Date(1_005_000).toISOString() });
    expect(m.route('o')).toMatchObject({ mode: 'direct', reason: expect.stringContaining("this org's runtime path degraded: error rate 100%") });
    expect(m.route('other').mode).toBe('runtime');
    m.adopt('o', { fallbackEnabled: false, fallbackReason: '', since: null, probeAt: null });
    expect(m.route('o').mode).toBe('runtime');
    expect(changes).toEqual([]);
  });
});
