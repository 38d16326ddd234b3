import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { BrainCircuit, Search, X } from 'lucide-react';
import { api, errorOf } from '../../lib/api.js';
import { useAgents } from '../../lib/queries.js';
import type { Memory } from '../../lib/types.js';
import { fmtRelative } from '../../lib/format.js';
import { Badge } from '../../components/ui/Badge.js';
import { Button } from '../../components/ui/Button.js';
import { Card, EmptyState, PageHeader } from '../../components/ui/Card.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { controlClass, SelectField, TextAreaField } from '../../components/ui/Field.js';

/** Long-term memory: what agents saved across sessions. Browse by agent, search (full text + vectors), add. */
export function MemoriesPage() {
  const agents = useAgents();
  const [agentId, setAgentId] = useState('');
  const [query, setQuery] = useState('');
  const [submitted, setSubmitted] = useState('');
  const [note, setNote] = useState('');
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: ['memories', agentId],
    queryFn: async () => (await api<{ data: Memory[] }>('GET', `/memories${agentId ? `?agentId=${agentId}` : ''}`)).data,
    enabled: !submitted,
  });
  const search = useQuery({
    queryKey: ['memories', 'search', agentId, submitted],
    queryFn: async () => (await api<{ data: Memory[] }>('POST', '/memories/search', { query: submitted, limit: 20, ...(agentId ? { agentId } : {}) })).data,
    enabled: !!submitted,
  });
  const add = useMutation({
    mutationFn: () => api<Memory>('POST', '/memories', { content: note, ...(agentId ? { agentId } : {}) }),
    onSuccess: () => {
      setNote('');
      void qc.invalidateQueries({ queryKey: ['memories'] });
    },
  });
  const shown = submitted ? search : list;
  const agentName = (id: string | null) => agents.data?.find((a) => a.id === id)?.name;
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(query.trim());
  };
  return (
    <div className="mx-auto max-w-4xl p-6 lg:p-8">
      <PageHeader title="Memories" description="What your agents remember across sessions. Only you and your agents see your memories." />
      <div className="mb-6 grid gap-4 md:grid-cols-3">
        <SelectField label="Agent filter" value={agentId} onChange={(e) => setAgentId(e.target.value)}>
          <option value="">All agents</option>
          {agents.data?.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </SelectField>
        <form onSubmit={onSearch} role="search" className="md:col-span-2">
          <label htmlFor="memory-search" className="mb-1.5 block text-sm font-medium text-zinc-700 dark:text-zinc-300">
            Search memories
          </label>
          <div className="flex gap-2">
            <input id="memory-search" type="search" className={controlClass} value={query} onChange={(e) => setQuery(e.target.value)} placeholder="e.g. favourite colour" />
            <Button type="submit" variant="primary" aria-label="Search">
              <Search className="size-4" aria-hidden />
            </Button>
            {submitted && (
              <Button aria-label="Clear search" onClick={() => (setSubmitted(''), setQuery(''))}>
                <X className="size-4" aria-hidden />
              </Button>
            )}
          </div>
        </form>
      </div>
      {shown.error && <ErrorNotice error={errorOf(shown.error)} onRetry={() => void shown.refetch()} />}
      {shown.data?.length === 0 && (
        <EmptyState icon={<BrainCircuit className="size-8" />} title={submitted ? `Nothing matches “${submitted}”` : 'No memories yet'}>
          {!submitted && 'Agents save memories as they work; you can add one below.'}
        </EmptyState>
      )}
      <ul className="space-y-2" aria-label={submitted ? 'Search results' : 'Memories'}>
        {shown.data?.map((m) => (
          <li key={m.id}>
            <Card className="p-4">
              <p className="text-sm whitespace-pre-wrap">{m.content}</p>
              <div className="mt-2 flex flex-wrap items-center gap-1.5 text-xs text-zinc-500">
                <span>{fmtRelative(m.createdAt)}</span>
                {m.agentId && <Badge tone="violet">{agentName(m.agentId) ?? 'agent'}</Badge>}
                {m.tags?.map((t) => (
                  <Badge key={t}>{t}</Badge>
                ))}
                {m.score !== undefined && <span className="ml-auto tabular-nums">score {m.score.toFixed(3)}</span>}
              </div>
            </Card>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => (e.preventDefault(), add.mutate())} className="mt-8 space-y-3" aria-label="Add a memory">
        <TextAreaField label="New memory" rows={2} value={note} onChange={(e) => setNote(e.target.value)} placeholder="Something your agents should remember" />
        {add.error && <ErrorNotice error={errorOf(add.error)} />}
        <div className="flex justify-end">
          <Button type="submit" disabled={!note.trim() || add.isPending}>
            Save memory
          </Button>
        </div>
      </form>
    </div>
  );
}
