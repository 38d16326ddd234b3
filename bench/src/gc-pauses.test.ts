import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gcOverlap, readGcPauses, type GcPause } from './gc-pauses.js';
import type { StreamResult } from './sse-client.js';

/** One stream whose tokens arrived at these µs, each `latencyUs` after it was stamped. */
const stream = (arrivalsUs: number[], latencyUs: number[]) => ({ arrivalsUs, latenciesUs: latencyUs }) as unknown as StreamResult;

describe('gcOverlap', () => {
  it('counts the tokens in flight while a pause ran, and the pauses within the pass, by process', () => {
    // 100 tokens 1 ms apart, each 0.5 ms in flight; a pause from 10,000 to 12,000 µs holds up the
    // tokens stamped in it, which arrive late (8 ms in flight)
    const arrivals: number[] = [];
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) {
      const late = i >= 10 && i < 12;
      arrivals.push(i * 1000 + (late ? 8000 : 500));
      latencies.push(late ? 8000 : 500);
    }
    const pauses: GcPause[] = [
      { process: 'plane', kind: 'scavenge', startUs: 10_000, endUs: 12_000 },
      { process: 'control-plane', kind: 'scavenge', startUs: 50_600, endUs: 50_800 }, // between two tokens' flights: holds none up
      { process: 'control-plane', kind: 'mark-compact', startUs: 500_000, endUs: 520_000 }, // after the pass
    ];
    const g = gcOverlap([stream(arrivals, latencies)], pauses);
    expect(g.pauses.plane).toEqual({ count: 1, sumMs: 2, maxMs: 2, byKind: { scavenge: { count: 1, maxMs: 2 } } });
    expect(g.pauses['control-plane']).toEqual({ count: 1, sumMs: 0.2, maxMs: 0.2, byKind: { scavenge: { count: 1, maxMs: 0.2 } } });
    // in flight during the plane's pause: the two late ones, and the next, stamped as it ended
    expect(g.tokensInPause.all).toBeCloseTo(3 / 100);
    expect(g.tokensInPause.slowest1).toBe(1); // the slowest 1 %: one token, a late one
    expect(g.tokensInPause.slowest5).toBeCloseTo(2 / 5);
  });

  it('reads what gc-observer.js logs, of the control plane and of a plane', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gc-pauses-test-'));
    writeFileSync(path.join(dir, 'control-plane-10.txt'), '2000 300 1\n');
    writeFileSync(path.join(dir, 'plane-11.txt'), '1000 5000 4\n3000 100 8\n');
    expect(readGcPauses({ dir, env: {} })).toEqual([
      { process: 'plane', kind: 'mark-compact', startUs: 1000, endUs: 6000 },
      { process: 'control-plane', kind: 'scavenge', startUs: 2000, endUs: 2300 },
      { process: 'plane', kind: 'incremental', startUs: 3000, endUs: 3100 },
    ]);
  });
});
