import { describe, expect, it } from 'vitest';
import { timestamp, timestampOrNull } from './timestamps.js';

describe('timestamp', () => {
  it('turns every form PostgreSQL and PGlite write into exactly what Date.toISOString gives', () => {
    for (const text of [
      '2026-12-07T12:45:18.336+00:00', // row_to_json, PGlite (ms)
      '2026-12-07T12:45:28.507259+00:00', // row_to_json, PostgreSQL (µs: truncated, as Date does)
      '2026-01-02T03:04:05+00:00', // no fraction
      '2026-01-02T03:04:05.5+00:00',
      '2026-12-07 12:45:28.5+00', // the text output format
      '2026-12-07T12:45:28.999999+00:00',
      '2026-12-07T13:45:28.123+01:00', // another offset: through Date
      '2026-12-07T12:45:28.123Z',
    ]) {
      expect(timestamp(text), text).toBe(new Date(text).toISOString());
    }
    const d = new Date('2026-03-04T05:06:07.089Z');
    expect(timestamp(d)).toBe('2026-03-04T05:06:07.089Z');
  });

  it('refuses what is no time at all, as Date does', () => {
    expect(() => timestamp('not a time')).toThrow(RangeError);
  });

  it('keeps absent times null', () => {
    expect(timestampOrNull(null)).toBeNull();
    expect(timestampOrNull(undefined)).toBeNull();
    expect(timestampOrNull('2026-01-02T03:04:05+00:00')).toBe('2026-01-02T03:04:05.000Z');
  });
});
