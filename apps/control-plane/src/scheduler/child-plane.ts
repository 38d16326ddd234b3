import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { PlaneHandle } from './driver.js';

/** How long a plane child has after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3_000;

/**
 * A plane that is a child process of this control plane (a `process` plane, or the QEMU of a
 * `microvm` one): its output lines go to `onLine`, `exited` settles however it ends (a spawn that
 * failed included), and `stop` asks with SIGTERM, then forces.
 */
export function childPlane(child: ChildProcess, o: { what: string; log: Logger; onLine: (line: string) => void }): PlaneHandle {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', o.onLine);
  }
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      o.log.error({ err: err.message }, `${o.what} failed to start`);
      resolve({ code: -1, signal: null });
    });
  });
  void exited.then((r) => o.log.info(r, `${o.what} exited`));
  return {
    vmId: String(child.pid ?? 'unknown'),
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(t);
    },
  };
}
