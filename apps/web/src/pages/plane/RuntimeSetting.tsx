import { useMutation, useQueryClient } from '@tanstack/react-query';
import { RuntimeOptions } from '../../components/RuntimeOptions.js';
import { Cpu } from 'lucide-react';
import type { RuntimeType } from '@semibot/protocol';
import { api, errorOf } from '../../lib/api.js';
import { keys } from '../../lib/queries.js';
import { type User, type VmStatus } from '../../lib/types.js';
import { Card } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { SelectField } from '../../components/ui/Field.js';

/**
 * The caller's link of the runtime type chain (session > agent > user > org > default): the
 * runtime of their sessions whose session and agent name none. Shown with what it resolves to now.
 */
export function RuntimeSetting({ status }: { status: VmStatus }) {
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (runtimeType: RuntimeType | null) => api<User>('PATCH', '/auth/me', { runtimeType }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.vm }),
  });
  const { type, from } = status.resolvedRuntime;
  return (
    <Card className="mt-6">
      <div className="flex items-center gap-4 p-5">
        <div className="grid size-10 place-items-center rounded-xl bg-zinc-100 dark:bg-zinc-800">
          <Cpu className="size-5 text-zinc-500" aria-hidden />
        </div>
        <div className="min-w-0 flex-1">
          <h2 className="font-medium">Your default runtime</h2>
          <p className="mt-0.5 text-sm text-zinc-500" data-testid="resolved-runtime">
            Now: <code className="font-mono">{type}</code> (from the {from}'s setting). An agent or a session can name its own.
          </p>
        </div>
        <div className="w-56">
          <SelectField
            label="Runtime"
            value={from === 'user' ? type : ''}
            disabled={save.isPending}
            onChange={(e) => save.mutate((e.target.value || null) as RuntimeType | null)}
          >
            <option value="">Inherit (org or platform default)</option>
            <RuntimeOptions />
          </SelectField>
        </div>
      </div>
      {save.error && (
        <div className="px-5 pb-5">
          <ErrorNotice error={errorOf(save.error)} onRetry={() => save.reset()} />
        </div>
      )}
    </Card>
  );
}
