/**
 * Timestamps from the database as the API shows them (`Date.prototype.toISOString`: UTC, ms).
 * Rows built with `row_to_json` (a turn's submit and finalize) hold timestamptz as text, which a
 * `new Date(text)` parses through V8's slow path — ~1 µs a field, ~25 µs of the control plane's
 * main thread per turn in a burst of 200 (CPU profile, npm run bench --only=burst). UTC text is
 * rewritten instead; anything else (another offset, a Date from the driver) goes through Date.
 */
const UTC_TEXT = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00(?::00)?$/;

export function timestamp(v: unknown): string {
  if (typeof v === 'string') {
    const m = UTC_TEXT.exec(v);
    // milliseconds truncated, as Date does with the microseconds PostgreSQL keeps
    if (m) return `${m[1]}T${m[2]}.${`${m[3] ?? ''}000`.slice(0, 3)}Z`;
  }
  return new Date(v as string | Date).toISOString();
}

/** As `timestamp`; null (or absent) stays null. */
export function timestampOrNull(v: unknown): string | null {
  return v ? timestamp(v) : null;
}
