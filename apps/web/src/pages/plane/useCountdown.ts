import { useEffect, useState } from 'react';

/** Milliseconds left of `ms` measured from `since` (epoch ms), ticking each second down to 0. */
export function useCountdown(ms: number, since: number): number {
  const left = () => Math.max(0, since + ms - Date.now());
  const [value, setValue] = useState(left);
  useEffect(() => {
    setValue(left());
    if (ms <= 0) return;
    const t = setInterval(() => {
      const v = left();
      setValue(v);
      if (v === 0) clearInterval(t);
    }, 250);
    return () => clearInterval(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ms, since]);
  return value;
}
