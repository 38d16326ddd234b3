import { useRuntimesAvailable } from '../lib/queries.js';
import { RUNTIME_OPTIONS } from '../lib/types.js';

/**
 * The runtimes as <option>s of a select. One this deployment cannot run (OpenClaw not installed)
 * is greyed with the reason, so it is never offered to be picked.
 */
export function RuntimeOptions({ prefix = '' }: { prefix?: string }) {
  const available = useRuntimesAvailable().data ?? {};
  return (
    <>
      {RUNTIME_OPTIONS.map((o) => {
        const state = available[o.value];
        const why = typeof state === 'string' ? state : null;
        return (
          <option key={o.value} value={o.value} disabled={why !== null} title={why ?? undefined}>
            {prefix}
            {o.label}
            {why !== null ? ' (not available here)' : ''}
          </option>
        );
      })}
    </>
  );
}
