/** Order statistics over samples (nearest-rank percentiles: every reported value was observed). */

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, min: NaN, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { n: sorted.length, min: sorted[0]!, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}

/** Percentile-wise difference a − b (e.g. product minus baseline). */
export function difference(a: Summary, b: Summary): Pick<Summary, 'p50' | 'p99' | 'max'> {
  return { p50: a.p50 - b.p50, p99: a.p99 - b.p99, max: a.max - b.max };
}

export const round = (v: number, digits = 3): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);
