import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Package, Trash2 } from 'lucide-react';
import { api, errorOf } from '../../lib/api.js';
import { keys, useSkills } from '../../lib/queries.js';
import type { Skill } from '../../lib/types.js';
import { fmtBytes, fmtRelative } from '../../lib/format.js';
import { Badge } from '../../components/ui/Badge.js';
import { Button } from '../../components/ui/Button.js';
import { Card, EmptyState, PageHeader } from '../../components/ui/Card.js';
import { ConfirmDialog } from '../../components/ui/ConfirmDialog.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { SkillCreateCard } from './SkillCreateCard.js';

export function SkillsPage() {
  const skills = useSkills();
  const qc = useQueryClient();
  const [doomed, setDoomed] = useState<Skill | null>(null);
  const remove = useMutation({
    mutationFn: (s: Skill) => api('DELETE', `/skills/${s.id}`),
    onSuccess: () => {
      setDoomed(null);
      void qc.invalidateQueries({ queryKey: keys.skills });
    },
  });
  return (
    <div className="mx-auto max-w-5xl p-6 lg:p-8">
      <PageHeader title="Skills" description="Packages in the AgentSkills format (a SKILL.md plus files) that agents can load on their execution plane." />
      <SkillCreateCard />
      {skills.error && <ErrorNotice error={errorOf(skills.error)} onRetry={() => void skills.refetch()} />}
      {remove.error && <ErrorNotice error={errorOf(remove.error)} />}
      {skills.data?.length === 0 && <EmptyState icon={<Package className="size-8" />} title="No skills yet" />}
      <ul className="mt-6 grid gap-3 md:grid-cols-2" aria-label="Skills">
        {skills.data?.map((s) => (
          <li key={s.id}>
            <Card className="flex h-full items-start gap-3 p-4">
              <Package className="mt-0.5 size-5 shrink-0 text-indigo-500" aria-hidden />
              <div className="min-w-0 flex-1">
                <h2 className="font-medium">{s.name}</h2>
                <p className="mt-0.5 line-clamp-2 text-sm text-zinc-600 dark:text-zinc-400">{s.description}</p>
                <div className="mt-2 flex flex-wrap items-center gap-1.5 text-xs text-zinc-500">
                  <span>{fmtBytes(s.sizeBytes)}</span>·<span>added {fmtRelative(s.createdAt)}</span>·<code className="font-mono" title={s.hash}>{s.hash.slice(0, 10)}</code>
                  {[...s.requires.bins, ...s.requires.env].map((r) => (
                    <Badge key={r}>{r}</Badge>
                  ))}
                </div>
              </div>
              <Button size="sm" variant="ghost" aria-label={`Delete ${s.name}`} onClick={() => setDoomed(s)}>
                <Trash2 className="size-3.5" aria-hidden />
              </Button>
            </Card>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={doomed !== null}
        title={`Delete skill ${doomed?.name ?? ''}?`}
        confirmLabel="Delete skill"
        busy={remove.isPending}
        onCancel={() => setDoomed(null)}
        onConfirm={() => doomed && remove.mutate(doomed)}
      >
        Agents that use it will no longer be offered it.
      </ConfirmDialog>
    </div>
  );
}
