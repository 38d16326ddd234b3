/** Usage is grouped by UTC day; the range pickers work in UTC dates (YYYY-MM-DD) to match. */
export const utcDay = (d: Date) => d.toISOString().slice(0, 10);

export function defaultRange(now = new Date()): { from: string; to: string } {
  return { from: utcDay(new Date(now.getTime() - 13 * 86_400_000)), to: utcDay(now) };
}

/** The API's `to` is exclusive; the picker's is inclusive, so ask for up to the next day. */
export const exclusiveEnd = (to: string) => utcDay(new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000));

/** Every day of the range, so days without usage show as zero instead of vanishing from the chart. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = new Date(`${to}T00:00:00Z`).getTime();
  for (let t = new Date(`${from}T00:00:00Z`).getTime(); t <= end && out.length < 400; t += 86_400_000) out.push(utcDay(new Date(t)));
  return out;
}
