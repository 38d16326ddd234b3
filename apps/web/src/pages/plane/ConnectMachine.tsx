import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { KeyRound, Laptop } from 'lucide-react';
import { api, errorOf } from '../../lib/api.js';
import type { VmMode } from '@semibot/protocol';
import { keys, useVmModesAvailable } from '../../lib/queries.js';
import type { User, VmStatus } from '../../lib/types.js';
import { Button } from '../../components/ui/Button.js';
import { Card } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';

const modes = [
  { value: 'process', label: 'Here (a process beside the control plane)' },
  { value: 'docker', label: 'A Docker container of my own' },
  { value: 'microvm', label: 'A microVM of my own (QEMU)' },
  { value: 'local', label: 'My own machine (semibot-runtime connect)' },
] as const satisfies readonly { value: VmMode; label: string }[];

/**
 * Where the caller's plane runs, and — for their own machine — the exact command to run there.
 * The command needs an API key; one is made for the machine on request and shown once, inside it.
 */
export function ConnectMachine({ status }: { status: VmStatus }) {
  const qc = useQueryClient();
  const [key, setKey] = useState<string | null>(null);
  const setMode = useMutation({
    mutationFn: (vmMode: VmMode | null) => api<User>('PATCH', '/auth/me', { vmMode }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.vm }),
  });
  const newKey = useMutation({
    mutationFn: () => api<{ key: string }>('POST', '/api-keys', { name: `machine ${new Date().toISOString().slice(0, 16)}` }),
    onSuccess: (r) => setKey(r.key),
  });
  const available = useVmModesAvailable();
  const mode = status.resolvedMode.mode;
  const command = `npx semibot-runtime connect --server ${window.location.origin} --api-key ${key ?? '<your API key>'}`;
  return (
    <Card className="mt-6">
      <div className="flex items-center gap-4 border-b border-zinc-100 p-5 dark:border-zinc-800">
        <div className="grid size-10 place-items-center rounded-xl bg-zinc-100 dark:bg-zinc-800">
          <Laptop className="size-5 text-zinc-500" aria-hidden />
        </div>
        <div className="min-w-0 flex-1">
          <h2 className="font-medium">Where your plane runs</h2>
          <p className="mt-0.5 text-sm text-zinc-500">
            Now: <code className="font-mono">{mode}</code> (from the {status.resolvedMode.from}'s setting). A change applies when your next plane starts.
          </p>
        </div>
      </div>
      <div className="space-y-4 p-5">
        <fieldset className="space-y-2" aria-label="VM mode">
          {modes.map((m) => {
            // a mode this deployment cannot run is shown, greyed, with the reason
            const why = available.data?.[m.value];
            const off = why !== undefined && why !== true;
            return (
              <label key={m.value} className={`flex items-center gap-2 text-sm ${off ? 'text-zinc-400' : ''}`} title={off ? why : undefined}>
                <input type="radio" name="vm-mode" value={m.value} checked={mode === m.value} disabled={setMode.isPending || off} onChange={() => setMode.mutate(m.value)} />
                {m.label}
                {off && <span className="text-xs">— not available here</span>}
              </label>
            );
          })}
        </fieldset>
        {setMode.error && <ErrorNotice error={errorOf(setMode.error)} onRetry={() => setMode.reset()} />}
        {mode === 'local' && (
          <section aria-label="Connect your machine" className="space-y-3">
            <p className="text-sm text-zinc-600 dark:text-zinc-300">
              On the machine that should run your agents, in a checkout of Semibot (Node ≥ 20, after <code className="font-mono">npm install</code>), run:
            </p>
            <pre data-testid="connect-command" className="overflow-x-auto rounded-lg bg-zinc-950 p-3 font-mono text-xs text-zinc-100">
              {command}
            </pre>
            {!key && (
              <Button onClick={() => newKey.mutate()} disabled={newKey.isPending}>
                <KeyRound className="size-4" aria-hidden />
                {newKey.isPending ? 'Creating a key…' : 'Create a key for this machine'}
              </Button>
            )}
            {key && <p className="text-xs text-amber-600 dark:text-amber-400">The key is shown once: keep the command somewhere safe.</p>}
            {newKey.error && <ErrorNotice error={errorOf(newKey.error)} onRetry={() => newKey.mutate()} />}
            <p className="text-sm text-zinc-500">
              {status.mode === 'local' && status.connected
                ? 'Your machine is connected.'
                : status.connected
                  ? `Your current ${status.mode} plane keeps serving until your machine connects.`
                  : 'Waiting for your machine to connect…'}
            </p>
          </section>
        )}
      </div>
    </Card>
  );
}
