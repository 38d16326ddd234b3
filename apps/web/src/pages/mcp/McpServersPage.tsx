import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Pencil, Plug, Plus, Trash2 } from 'lucide-react';
import { api, errorOf } from '../../lib/api.js';
import { keys, useMcpServers } from '../../lib/queries.js';
import type { McpServer } from '../../lib/types.js';
import { Badge } from '../../components/ui/Badge.js';
import { Button } from '../../components/ui/Button.js';
import { Card, EmptyState, PageHeader } from '../../components/ui/Card.js';
import { ConfirmDialog } from '../../components/ui/ConfirmDialog.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { McpForm } from './McpForm.js';

export function McpServersPage() {
  const servers = useMcpServers();
  const qc = useQueryClient();
  const [editing, setEditing] = useState<McpServer | 'new' | null>(null);
  const [doomed, setDoomed] = useState<McpServer | null>(null);
  const remove = useMutation({
    mutationFn: (s: McpServer) => api('DELETE', `/mcp-servers/${s.id}`),
    onSuccess: () => {
      setDoomed(null);
      void qc.invalidateQueries({ queryKey: keys.mcp });
    },
  });
  return (
    <div className="mx-auto max-w-5xl p-6 lg:p-8">
      <PageHeader
        title="MCP servers"
        description="Tools from Model Context Protocol servers. stdio servers run on your execution plane; HTTP servers are called by the control plane, so their credentials never reach the plane."
        actions={
          <Button variant="primary" onClick={() => setEditing('new')} disabled={editing !== null}>
            <Plus className="size-4" aria-hidden /> Add server
          </Button>
        }
      />
      {editing && <McpForm key={editing === 'new' ? 'new' : editing.id} server={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      {servers.error && <ErrorNotice error={errorOf(servers.error)} onRetry={() => void servers.refetch()} />}
      {remove.error && <ErrorNotice error={errorOf(remove.error)} />}
      {servers.data?.length === 0 && !editing && <EmptyState icon={<Plug className="size-8" />} title="No MCP servers yet" />}
      <ul className="space-y-3" aria-label="MCP servers">
        {servers.data?.map((s) => (
          <li key={s.id}>
            <Card className="flex items-center gap-4 p-4">
              <Plug className="size-5 shrink-0 text-indigo-500" aria-hidden />
              <div className="min-w-0 flex-1">
                <div className="flex items-center gap-2">
                  <h2 className="font-medium">{s.name}</h2>
                  <Badge tone={s.transport === 'stdio' ? 'violet' : 'blue'}>{s.transport}</Badge>
                </div>
                <p className="mt-0.5 truncate font-mono text-xs text-zinc-500">{s.transport === 'stdio' ? [s.command, ...s.args].join(' ') : s.url}</p>
                {Object.keys({ ...s.env, ...s.headers }).length > 0 && (
                  <p className="mt-1 text-xs text-zinc-400">secrets set: {Object.keys({ ...s.env, ...s.headers }).join(', ')}</p>
                )}
              </div>
              <Button size="sm" variant="ghost" aria-label={`Edit ${s.name}`} onClick={() => setEditing(s)}>
                <Pencil className="size-3.5" aria-hidden /> Edit
              </Button>
              <Button size="sm" variant="ghost" className="text-red-600 dark:text-red-400" aria-label={`Delete ${s.name}`} onClick={() => setDoomed(s)}>
                <Trash2 className="size-3.5" aria-hidden />
              </Button>
            </Card>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={doomed !== null}
        title={`Delete ${doomed?.name ?? 'server'}?`}
        confirmLabel="Delete server"
        busy={remove.isPending}
        onCancel={() => setDoomed(null)}
        onConfirm={() => doomed && remove.mutate(doomed)}
      >
        Agents that use it lose its tools on their next turn.
      </ConfirmDialog>
    </div>
  );
}
