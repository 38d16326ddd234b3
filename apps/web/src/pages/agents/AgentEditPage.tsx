import { useQuery } from '@tanstack/react-query';
import { ArrowLeft } from 'lucide-react';
import { Link, useParams } from 'react-router';
import { api, errorOf } from '../../lib/api.js';
import type { Agent } from '../../lib/types.js';
import { PageHeader } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { AgentForm } from './AgentForm.js';

/** /agents/new and /agents/:id/edit: the same form, empty or filled from the stored agent. */
export function AgentEditPage() {
  const { agentId } = useParams();
  const agent = useQuery({ queryKey: ['agent', agentId], queryFn: () => api<Agent>('GET', `/agents/${agentId}`), enabled: !!agentId });
  return (
    <div className="mx-auto max-w-3xl p-6 lg:p-8">
      <Link to="/agents" className="mb-4 inline-flex items-center gap-1 text-sm text-zinc-500 hover:text-zinc-900 dark:hover:text-zinc-100">
        <ArrowLeft className="size-4" aria-hidden /> Agents
      </Link>
      <PageHeader title={agentId ? `Edit ${agent.data?.name ?? 'agent'}` : 'New agent'} />
      {agent.error && <ErrorNotice error={errorOf(agent.error)} onRetry={() => void agent.refetch()} />}
      {(!agentId || agent.data) && <AgentForm key={agent.data?.id ?? 'new'} agent={agent.data ?? null} />}
    </div>
  );
}
