import { Loader2, ServerCrash, WifiOff } from 'lucide-react';
import { Link } from 'react-router';
import { useVmStatus } from '../../lib/queries.js';
import type { StreamStatus } from '../../stream/session-stream.js';
import { useCountdown } from '../plane/useCountdown.js';

/**
 * Non-blocking notices above the composer: the execution plane on its way (first turns wait for
 * it), the plane in a cooldown after failed starts, and the event stream reconnecting.
 */
export function PlaneNotice({ busy, stream }: { busy: boolean; stream: StreamStatus }) {
  const vm = useVmStatus({ fast: busy });
  const s = vm.data;
  const retryIn = useCountdown(s?.retryAfterMs ?? 0, vm.dataUpdatedAt);
  const row = 'flex items-center gap-2 rounded-lg px-3 py-2 text-xs';
  return (
    <div className="space-y-2" role="status" aria-live="polite">
      {stream.state === 'reconnecting' && (
        <div className={`${row} bg-amber-50 text-amber-800 dark:bg-amber-950/50 dark:text-amber-300`}>
          <WifiOff className="size-3.5" aria-hidden /> Connection lost — reconnecting and resuming where the stream left off…
        </div>
      )}
      {stream.state === 'failed' && (
        <div className={`${row} bg-red-50 text-red-700 dark:bg-red-950/50 dark:text-red-300`}>
          <WifiOff className="size-3.5" aria-hidden /> Live updates stopped: {stream.error}
        </div>
      )}
      {s && (s.state === 'starting' || s.state === 'provisioning' || (busy && !s.connected && retryIn === 0 && s.state !== 'failed')) && (
        <div className={`${row} bg-sky-50 text-sky-800 dark:bg-sky-950/50 dark:text-sky-300`}>
          <Loader2 className="size-3.5 animate-spin" aria-hidden /> Starting your execution plane… the first answer can take a few seconds.
        </div>
      )}
      {s && !s.connected && (retryIn > 0 || s.state === 'failed') && (
        <div className={`${row} bg-red-50 text-red-700 dark:bg-red-950/50 dark:text-red-300`}>
          <ServerCrash className="size-3.5" aria-hidden />
          Execution plane unavailable{s.lastError ? `: ${s.lastError}` : ''}.{retryIn > 0 ? ` Next start allowed in ${Math.ceil(retryIn / 1000)} s.` : ''}{' '}
          <Link to="/plane" className="font-medium underline">
            Open the plane panel
          </Link>
        </div>
      )}
    </div>
  );
}
