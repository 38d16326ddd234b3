import { useMutation, useQueryClient } from '@tanstack/react-query';
import { RuntimeOptions } from '../../components/RuntimeOptions.js';
import { Building2 } from 'lucide-react';
import type { RuntimeType, VmMode } from '@semibot/protocol';
import { api, errorOf } from '../../lib/api.js';
import { useAuth } from '../../lib/auth.js';
import { keys } from '../../lib/queries.js';
import { VM_MODE_OPTIONS, type Org } from '../../lib/types.js';
import { Card } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { SelectField } from '../../components/ui/Field.js';

/**
 * The org's links of both settings chains: the VM mode and the runtime for its users, agents and
 * sessions that set none. Only the org's owner may change them (the server says so otherwise).
 */
export function OrgSettings() {
  const { me } = useAuth();
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (patch: { defaultVmMode?: VmMode | null; defaultRuntimeType?: RuntimeType | null }) => api<Org>('PATCH', '/org', patch),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['me'] });
      void qc.invalidateQueries({ queryKey: keys.vm });
    },
  });
  if (!me) return null;
  const org = save.data ?? me.org;
  const owner = me.user.role === 'owner';
  return (
    <Card className="mt-6" aria-label="Organization defaults">
      <div className="flex items-center gap-4 border-b border-zinc-100 p-5 dark:border-zinc-800">
        <div className="grid size-10 place-items-center rounded-xl bg-zinc-100 dark:bg-zinc-800">
          <Building2 className="size-5 text-zinc-500" aria-hidden />
        </div>
        <div className="min-w-0 flex-1">
          <h2 className="font-medium">{org.name}: defaults</h2>
          <p className="mt-0.5 text-sm text-zinc-500">For users, agents and sessions that choose nothing themselves.{owner ? '' : " Only the org's owner can change them."}</p>
        </div>
      </div>
      <div className="grid gap-5 p-5 sm:grid-cols-2">
        <SelectField
          label="Org VM mode"
          value={org.defaultVmMode ?? ''}
          disabled={!owner || save.isPending}
          onChange={(e) => save.mutate({ defaultVmMode: (e.target.value || null) as VmMode | null })}
        >
          <option value="">Platform default</option>
          {VM_MODE_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </SelectField>
        <SelectField
          label="Org runtime"
          value={org.defaultRuntimeType ?? ''}
          disabled={!owner || save.isPending}
          onChange={(e) => save.mutate({ defaultRuntimeType: (e.target.value || null) as RuntimeType | null })}
        >
          <option value="">Platform default</option>
          <RuntimeOptions />
        </SelectField>
      </div>
      {save.error && (
        <div className="px-5 pb-5">
          <ErrorNotice error={errorOf(save.error)} onRetry={() => save.reset()} />
        </div>
      )}
    </Card>
  );
}
