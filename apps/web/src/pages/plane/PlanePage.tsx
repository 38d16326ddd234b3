import { useMutation, useQueryClient } from '@tanstack/react-query';
import { RefreshCw, Server } from 'lucide-react';
import { api, errorOf } from '../../lib/api.js';
import { keys, planeTone, useVmStatus } from '../../lib/queries.js';
import type { VmStatus } from '../../lib/types.js';
import { fmtDateTime, fmtRelative } from '../../lib/format.js';
import { Badge, type Tone } from '../../components/ui/Badge.js';
import { Button } from '../../components/ui/Button.js';
import { Card, PageHeader } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { useCountdown } from './useCountdown.js';
import { ConnectMachine } from './ConnectMachine.js';
import { RuntimeSetting } from './RuntimeSetting.js';
import { OrgSettings } from './OrgSettings.js';

const explain: Record<VmStatus['state'], string> = {
  none: 'No execution plane yet: one starts with your first message.',
  starting: 'Your execution plane is starting.',
  provisioning: 'Started; waiting for it to dial in to the control plane.',
  ready: 'Connected and serving your sessions.',
  disconnected: 'It lost its connection; it will be started again on the next message.',
  frozen: 'Paused.',
  failed: 'It failed to start too many times. Rebootstrap to try again now.',
  terminated: 'Stopped. A new one starts with your next message.',
};

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-4 px-5 py-3 text-sm">
      <dt className="text-zinc-500">{label}</dt>
      <dd className="col-span-2 min-w-0 break-words">{children}</dd>
    </div>
  );
}

/** The caller's execution plane: where agent code runs, how healthy it is, and a way to restart it. */
export function PlanePage() {
  const vm = useVmStatus({ fast: true });
  const qc = useQueryClient();
  const rebootstrap = useMutation({
    mutationFn: () => api<VmStatus>('POST', '/vm/rebootstrap'),
    onSuccess: (s) => qc.setQueryData(keys.vm, s),
  });
  const s = vm.data;
  const retryIn = useCountdown(s?.retryAfterMs ?? 0, vm.dataUpdatedAt);
  return (
    <div className="mx-auto max-w-3xl p-6 lg:p-8">
      <PageHeader
        title="Execution plane"
        description="The runtime daemon that runs your agents' turns. The control plane never runs agent code itself."
        actions={
          <Button variant="primary" onClick={() => rebootstrap.mutate()} disabled={rebootstrap.isPending}>
            <RefreshCw className={`size-4 ${rebootstrap.isPending ? 'animate-spin' : ''}`} aria-hidden />
            {rebootstrap.isPending ? 'Rebootstrapping…' : 'Rebootstrap'}
          </Button>
        }
      />
      {vm.error && <ErrorNotice error={errorOf(vm.error)} onRetry={() => void vm.refetch()} />}
      {rebootstrap.error && <ErrorNotice error={errorOf(rebootstrap.error)} onRetry={() => rebootstrap.mutate()} />}
      {s && (
        <Card>
          <div className="flex items-center gap-4 border-b border-zinc-100 p-5 dark:border-zinc-800">
            <div className="grid size-10 place-items-center rounded-xl bg-zinc-100 dark:bg-zinc-800">
              <Server className="size-5 text-zinc-500" aria-hidden />
            </div>
            <div className="min-w-0 flex-1">
              <div className="flex items-center gap-2">
                <h2 className="font-medium">State</h2>
                <Badge tone={planeTone(s.state) as Tone} pulse={s.state === 'starting' || s.state === 'provisioning'}>
                  <span data-testid="plane-state">{s.state}</span>
                </Badge>
              </div>
              <p className="mt-0.5 text-sm text-zinc-500">{explain[s.state]}</p>
            </div>
          </div>
          <dl className="divide-y divide-zinc-100 dark:divide-zinc-800" aria-label="Execution plane details">
            <Row label="Mode">
              <code className="font-mono">{s.mode}</code>
            </Row>
            <Row label="Connected">{s.connected ? `yes, since ${s.connectedAt ? fmtDateTime(s.connectedAt) : '—'}` : 'no'}</Row>
            <Row label="Last heartbeat">{s.lastHeartbeatAt ? `${fmtRelative(s.lastHeartbeatAt)} (${fmtDateTime(s.lastHeartbeatAt)})` : 'never'}</Row>
            <Row label="Active runs">{s.activeRuns}</Row>
            <Row label="Start attempts">{s.bootstrapAttempts}</Row>
            <Row label="Retry after">{retryIn > 0 ? <span className="text-amber-600 dark:text-amber-400">{Math.ceil(retryIn / 1000)} s</span> : 'now'}</Row>
            <Row label="Last error">{s.lastError ? <span className="font-mono text-xs text-red-600 dark:text-red-400">{s.lastError}</span> : 'none'}</Row>
            <Row label="Instance">
              <code className="font-mono text-xs">{s.instanceId ?? '—'}</code>
            </Row>
          </dl>
        </Card>
      )}
      {s && <ConnectMachine status={s} />}
      {s && <RuntimeSetting status={s} />}
      <OrgSettings />
    </div>
  );
}
