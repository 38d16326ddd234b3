/** `KEY=value` / `Name: value` lines ⇄ records, for env vars and HTTP headers in a textarea. */
export function parseLines(text: string, sep: '=' | ':'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(sep);
    if (i <= 0) continue;
    const k = line.slice(0, i).trim();
    if (k) out[k] = line.slice(i + 1).trim();
  }
  return out;
}

export const splitArgs = (text: string) => text.split('\n').map((a) => a.trim()).filter(Boolean);
