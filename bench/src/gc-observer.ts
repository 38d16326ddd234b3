/**
 * Loaded with `--import` into the control plane and its planes by `--gc-pauses` (gc-pauses.ts):
 * appends each garbage collection of the main thread to `<dir>/<role>-<pid>.txt` as
 * `start-µs duration-µs kind`, on the wall clock the mock stamps its tokens with. The directory
 * comes in this module's URL (`?dir=`): a plane's environment is not the control plane's.
 */
import { appendFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const dir = new URL(import.meta.url).searchParams.get('dir');
if (dir && isMainThread) {
  const role = process.argv[1]?.includes('runtime') ? 'plane' : 'control-plane';
  const file = `${dir}/${role}-${process.pid}.txt`;
  let lines: string[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      lines.push(`${Math.round((performance.timeOrigin + e.startTime) * 1000)} ${Math.round(e.duration * 1000)} ${kind}`);
    }
  }).observe({ entryTypes: ['gc'] });
  const flush = () => {
    if (lines.length) appendFileSync(file, lines.join('\n') + '\n');
    lines = [];
  };
  setInterval(flush, 100).unref();
  process.on('SIGTERM', flush); // before the process's own handler exits
  process.on('exit', flush);
}
