import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Bot, MessagesSquare, Pencil, Plus, Trash2 } from 'lucide-react';
import { Link } from 'react-router';
import { api, errorOf } from '../../lib/api.js';
import { keys, useAgents } from '../../lib/queries.js';
import { RUNTIME_OPTIONS, type Agent } from '../../lib/types.js';
import { fmtRelative } from '../../lib/format.js';
import { Badge } from '../../components/ui/Badge.js';
import { Button } from '../../components/ui/Button.js';
import { Card, EmptyState, PageHeader } from '../../components/ui/Card.js';
import { ConfirmDialog } from '../../components/ui/ConfirmDialog.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';

const linkButton = 'inline-flex h-8 items-center gap-1.5 rounded-md px-2.5 text-xs font-medium';

export function AgentsPage() {
  const agents = useAgents();
  const qc = useQueryClient();
  const [doomed, setDoomed] = useState<Agent | null>(null);
  const remove = useMutation({
    mutationFn: (a: Agent) => api('DELETE', `/agents/${a.id}`),
    onSuccess: () => {
      setDoomed(null);
      void qc.invalidateQueries({ queryKey: keys.agents });
    },
  });
  return (
    <div className="mx-auto max-w-5xl p-6 lg:p-8">
      <PageHeader
        title="Agents"
        description="An agent is a system prompt, a model, a runtime and the tools it may use."
        actions={
          <Link to="/agents/new" className={`${linkButton} h-9 bg-indigo-600 px-3.5 text-sm text-white shadow-sm hover:bg-indigo-500`}>
            <Plus className="size-4" aria-hidden /> New agent
          </Link>
        }
      />
      {agents.error && <ErrorNotice error={errorOf(agents.error)} onRetry={() => void agents.refetch()} />}
      {remove.error && <ErrorNotice error={errorOf(remove.error)} />}
      {agents.data?.length === 0 && (
        <EmptyState icon={<Bot className="size-8" />} title="No agents yet">
          <Link to="/agents/new" className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Create your first agent
          </Link>{' '}
          to start chatting.
        </EmptyState>
      )}
      <ul className="grid gap-4 md:grid-cols-2" aria-label="Agents">
        {agents.data?.map((a) => (
          <li key={a.id}>
            <Card className="flex h-full flex-col p-4">
              <div className="flex items-start justify-between gap-3">
                <div className="min-w-0">
                  <h2 className="truncate font-medium">{a.name}</h2>
                  <p className="mt-0.5 text-xs text-zinc-500">updated {fmtRelative(a.updatedAt)}</p>
                </div>
                <div className="flex shrink-0 gap-1.5">
                  {a.runtimeType && <Badge tone="violet">{RUNTIME_OPTIONS.find((o) => o.value === a.runtimeType)?.label ?? a.runtimeType}</Badge>}
                  {a.model && <Badge>{a.model}</Badge>}
                </div>
              </div>
              <p className="mt-3 line-clamp-2 flex-1 text-sm text-zinc-600 dark:text-zinc-400">{a.systemPrompt}</p>
              <div className="mt-3 flex items-center gap-3 text-xs text-zinc-500">
                <span>{a.skillIds.length} skills</span>
                <span>{a.mcpServerIds.length} MCP servers</span>
                {a.defaultVmMode && <span>VM: {a.defaultVmMode}</span>}
              </div>
              <div className="mt-4 flex gap-2 border-t border-zinc-100 pt-3 dark:border-zinc-800">
                <Link to={`/chat/${a.id}`} aria-label={`Chat with ${a.name}`} className={`${linkButton} bg-indigo-50 text-indigo-700 hover:bg-indigo-100 dark:bg-indigo-500/10 dark:text-indigo-300`}>
                  <MessagesSquare className="size-3.5" aria-hidden /> Chat
                </Link>
                <Link to={`/agents/${a.id}/edit`} aria-label={`Edit ${a.name}`} className={`${linkButton} text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800`}>
                  <Pencil className="size-3.5" aria-hidden /> Edit
                </Link>
                <Button size="sm" variant="ghost" className="ml-auto text-red-600 dark:text-red-400" aria-label={`Delete ${a.name}`} onClick={() => setDoomed(a)}>
                  <Trash2 className="size-3.5" aria-hidden /> Delete
                </Button>
              </div>
            </Card>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={doomed !== null}
        title={`Delete ${doomed?.name ?? 'agent'}?`}
        confirmLabel="Delete agent"
        busy={remove.isPending}
        onCancel={() => setDoomed(null)}
        onConfirm={() => doomed && remove.mutate(doomed)}
      >
        Its sessions stay readable, but no new turns can run with it. This cannot be undone.
      </ConfirmDialog>
    </div>
  );
}
