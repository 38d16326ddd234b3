import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PLANE_NODE_FLAGS } from '@semibot/control-plane';
import { constants } from 'node:perf_hooks';
import type { StreamResult } from './sse-client.js';

/**
 * `--gc-pauses` (with --only=latency): which of a latency pass's tokens were in flight while the
 * control plane or the plane stood in a garbage collection. Each process logs its main thread's
 * collections (gc-observer.ts); a token is "in a pause" when a pause overlapped the time between
 * the mock stamping it and the client reading it. The slowest tokens against all of them says
 * whether the tail is the collectors' pauses.
 */
export type GcProcess = 'control-plane' | 'plane';
export interface GcPause {
  process: GcProcess;
  kind: 'scavenge' | 'mark-compact' | 'incremental' | 'weak callbacks';
  startUs: number;
  endUs: number;
}
export interface GcOverlap {
  /** the pauses within the pass, by process */
  pauses: Record<GcProcess, { count: number; sumMs: number; maxMs: number; byKind: Partial<Record<GcPause['kind'], { count: number; maxMs: number }>> }>;
  /** share of the pass's tokens in flight during a pause: all of them, the slowest 5 %, the slowest 1 % */
  tokensInPause: { all: number; slowest5: number; slowest1: number };
}

export interface GcLog {
  dir: string;
  /** NODE_OPTIONS for the control plane and SEMIBOT_PLANE_NODE_OPTIONS for its planes (their usual flags kept) */
  env: Record<string, string>;
}

export function startGcLog(): GcLog {
  const dir = mkdtempSync(path.join(tmpdir(), 'semibot-bench-gc-'));
  const observer = `${new URL('./gc-observer.js', import.meta.url).href}?dir=${encodeURIComponent(dir)}`;
  return { dir, env: { NODE_OPTIONS: `--import ${observer}`, SEMIBOT_PLANE_NODE_OPTIONS: [...PLANE_NODE_FLAGS, '--import', observer].join(' ') } };
}

const KINDS: Record<number, GcPause['kind']> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

export function readGcPauses(log: GcLog): GcPause[] {
  const pauses: GcPause[] = [];
  for (const name of readdirSync(log.dir)) {
    const who: GcProcess = name.startsWith('plane-') ? 'plane' : 'control-plane';
    for (const line of readFileSync(path.join(log.dir, name), 'utf8').split('\n')) {
      const [start, duration, kind] = line.split(' ').map(Number);
      if (start === undefined || duration === undefined || Number.isNaN(start)) continue;
      pauses.push({ process: who, kind: KINDS[kind ?? 0] ?? 'scavenge', startUs: start, endUs: start + duration });
    }
  }
  return pauses.sort((a, b) => a.startUs - b.startUs);
}

export function gcOverlap(results: StreamResult[], pauses: GcPause[]): GcOverlap {
  const tokens = results.flatMap((r) => r.arrivalsUs.map((at, i) => ({ from: at - r.latenciesUs[i]!, to: at, us: r.latenciesUs[i]! })));
  const first = Math.min(...tokens.map((t) => t.from));
  const last = Math.max(...tokens.map((t) => t.to));
  const within = pauses.filter((p) => p.endUs >= first && p.startUs <= last);
  const inPause = (t: { from: number; to: number }) => within.some((p) => p.startUs <= t.to && p.endUs >= t.from);
  const share = (ts: typeof tokens) => (ts.length ? ts.filter(inPause).length / ts.length : 0);
  const bySlowest = [...tokens].sort((a, b) => b.us - a.us);
  const stats = (who: GcProcess) => {
    const mine = within.filter((p) => p.process === who);
    const ms = mine.map((p) => (p.endUs - p.startUs) / 1000);
    const byKind: GcOverlap['pauses'][GcProcess]['byKind'] = {};
    mine.forEach((p, i) => {
      const k = (byKind[p.kind] ??= { count: 0, maxMs: 0 });
      k.count++;
      k.maxMs = Math.max(k.maxMs, ms[i]!);
    });
    return { count: ms.length, sumMs: ms.reduce((a, b) => a + b, 0), maxMs: Math.max(0, ...ms), byKind };
  };
  return {
    pauses: { 'control-plane': stats('control-plane'), plane: stats('plane') },
    tokensInPause: {
      all: share(tokens),
      slowest5: share(bySlowest.slice(0, Math.ceil(tokens.length * 0.05))),
      slowest1: share(bySlowest.slice(0, Math.ceil(tokens.length * 0.01))),
    },
  };
}

export function formatGcOverlap(passes: GcOverlap[]): string[] {
  const pct = (v: number) => `${Math.round(v * 100)} %`;
  return passes
    .map((g, i) => {
      const kinds = (who: GcProcess) =>
        Object.entries(g.pauses[who].byKind)
          .map(([kind, k]) => `; ${k.count} ${kind} max ${k.maxMs.toFixed(1)}`)
          .join('');
      const p = (who: GcProcess) => `${g.pauses[who].count} (sum ${g.pauses[who].sumMs.toFixed(0)}, max ${g.pauses[who].maxMs.toFixed(1)} ms${kinds(who)})`;
      return `pass ${i + 1}: GC pauses control plane ${p('control-plane')}, plane ${p('plane')}; tokens in flight during one: all ${pct(g.tokensInPause.all)}, slowest 5 % ${pct(g.tokensInPause.slowest5)}, slowest 1 % ${pct(g.tokensInPause.slowest1)}`;
    });
}
