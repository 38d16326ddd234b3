import { useQuery } from '@tanstack/react-query';
import { Bot } from 'lucide-react';
import { api } from '../../lib/api.js';
import type { Run } from '../../lib/types.js';
import type { Turn, TurnStatus } from '../../stream/turns.js';
import { Badge, type Tone } from '../../components/ui/Badge.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { Markdown } from './Markdown.js';
import { ProcessView } from './ProcessView.js';

const statusBadge: Partial<Record<TurnStatus, { tone: Tone; label: string; pulse?: boolean }>> = {
  sending: { tone: 'neutral', label: 'Sending', pulse: true },
  queued: { tone: 'amber', label: 'Queued' },
  running: { tone: 'blue', label: 'Streaming', pulse: true },
  failed: { tone: 'red', label: 'Failed' },
  cancelled: { tone: 'neutral', label: 'Stopped' },
};

/** A turn neither the stream nor the history can place (queued, or older than the retained events). */
function useProbedStatus(turn: Turn): { status: TurnStatus; error: Turn['error'] } {
  const probe = useQuery({
    queryKey: ['run', turn.runId],
    queryFn: () => api<Run>('GET', `/runs/${turn.runId}`),
    enabled: turn.status === 'unknown' && !!turn.runId,
    refetchInterval: (q) => (q.state.data && ['queued', 'running'].includes(q.state.data.status) ? 2_000 : false),
  });
  if (turn.status !== 'unknown' || !probe.data) return { status: turn.status, error: turn.error };
  return { status: probe.data.status, error: probe.data.error ?? null };
}

export function TurnView({ turn, index, onRetry }: { turn: Turn; index: number; onRetry: (t: Turn) => void }) {
  const { status, error } = useProbedStatus(turn);
  const badge = statusBadge[status];
  const streaming = status === 'running';
  const usage = turn.run?.usage;
  return (
    <article aria-label={`Turn ${index + 1}`} className="space-y-3" data-status={status}>
      <div className="flex justify-end">
        <div className="max-w-[80%] rounded-2xl rounded-br-md bg-indigo-600 px-4 py-2.5 text-sm whitespace-pre-wrap text-white shadow-sm">
          {turn.userContent}
        </div>
      </div>
      <div className="flex gap-3">
        <div className="grid size-7 shrink-0 place-items-center rounded-lg bg-zinc-200 text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300" aria-hidden>
          <Bot className="size-4" />
        </div>
        <div className="min-w-0 flex-1">
          {badge && (
            <div className="mb-1.5">
              <Badge tone={badge.tone} pulse={badge.pulse ?? false}>
                {badge.label}
              </Badge>
            </div>
          )}
          {turn.run && <ProcessView steps={turn.run.steps} running={streaming} />}
          <div data-testid="answer" aria-busy={streaming} aria-label="Answer">
            {turn.answer ? (
              <Markdown text={turn.answer} streaming={streaming} />
            ) : streaming ? (
              <span className="inline-flex gap-1 py-2" aria-label="Thinking">
                {[0, 1, 2].map((i) => (
                  <span key={i} className="size-1.5 animate-bounce rounded-full bg-zinc-400" style={{ animationDelay: `${i * 120}ms` }} />
                ))}
              </span>
            ) : null}
          </div>
          {error && (
            <div className="mt-2">
              <ErrorNotice error={error} onRetry={() => onRetry(turn)} retryLabel="Retry message" />
            </div>
          )}
          {usage && status !== 'running' && (
            <p className="mt-1.5 text-[11px] text-zinc-400">
              {usage.model} · {usage.tokensIn} in / {usage.tokensOut} out · {Math.round(usage.latencyMs)} ms
            </p>
          )}
        </div>
      </div>
    </article>
  );
}
