import { describe, expect, it } from 'vitest';
import { daysBetween, defaultRange, exclusiveEnd } from './dateRange.js';

describe('usage date range', () => {
  it('defaults to the last 14 UTC days, today included', () => {
    expect(defaultRange(new Date('2025-03-10T23:30:00Z'))).toEqual({ from: '2025-02-25', to: '2025-03-10' });
  });
  it('makes the inclusive end exclusive for the API, across month ends', () => {
    expect(exclusiveEnd('2025-02-28')).toBe('2025-03-01');
  });
  it('lists every day of the range', () => {
    expect(daysBetween('2025-12-30', '2026-01-02')).toEqual(['2025-12-30', '2025-12-31', '2026-01-01', '2026-01-02']);
    expect(daysBetween('2025-01-02', '2025-01-01')).toEqual([]);
  });
});
