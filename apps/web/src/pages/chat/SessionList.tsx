import { useState } from 'react';
import { RuntimeOptions } from '../../components/RuntimeOptions.js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { RuntimeType } from '@semibot/protocol';
import { MessageSquarePlus } from 'lucide-react';
import { NavLink, useNavigate } from 'react-router';
import { api, errorOf } from '../../lib/api.js';
import { keys, useSessions } from '../../lib/queries.js';
import { RUNTIME_OPTIONS, type Session } from '../../lib/types.js';
import { fmtRelative } from '../../lib/format.js';
import { Button } from '../../components/ui/Button.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';

export const sessionTitle = (s: Session) => s.title ?? `Session ${new Date(s.createdAt).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}`;

export function SessionList({ agentId }: { agentId: string }) {
  const sessions = useSessions(agentId);
  const qc = useQueryClient();
  const navigate = useNavigate();
  // the session's own link of the runtime type chain; '' leaves it to the agent, the user, the org
  const [runtime, setRuntime] = useState<RuntimeType | ''>('');
  const create = useMutation({
    mutationFn: () => api<Session>('POST', '/sessions', runtime ? { agentId, runtimeType: runtime } : { agentId }),
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: keys.sessions(agentId) });
      navigate(`/chat/${agentId}/${s.id}`);
    },
  });
  const sorted = [...(sessions.data ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="p-3">
        <Button variant="primary" className="w-full" onClick={() => create.mutate()} disabled={create.isPending}>
          <MessageSquarePlus className="size-4" aria-hidden /> New session
        </Button>
        <select
          aria-label="Runtime of the new session"
          className="mt-2 w-full rounded-md border border-zinc-200 bg-white px-2 py-1 text-xs text-zinc-600 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300"
          value={runtime}
          onChange={(e) => setRuntime(e.target.value as RuntimeType | '')}
        >
          <option value="">Runtime: the agent's</option>
          <RuntimeOptions prefix="Runtime: " />
        </select>
        {create.error && (
          <div className="mt-2">
            <ErrorNotice error={errorOf(create.error)} />
          </div>
        )}
      </div>
      <nav aria-label="Sessions" className="min-h-0 flex-1 overflow-y-auto px-2 pb-3">
        {sessions.data?.length === 0 && <p className="px-2 py-4 text-center text-xs text-zinc-500">No sessions yet.</p>}
        <ul className="space-y-0.5">
          {sorted.map((s) => (
            <li key={s.id}>
              <NavLink
                to={`/chat/${agentId}/${s.id}`}
                className={({ isActive }) =>
                  `block rounded-md px-2.5 py-2 text-sm ${isActive ? 'bg-white font-medium shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-800 dark:ring-zinc-700' : 'text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800/60'}`
                }
              >
                <span className="block truncate">{sessionTitle(s)}</span>
                <span className="block text-[11px] text-zinc-400">
                  {fmtRelative(s.updatedAt)}
                  {s.runtimeType && ` · ${RUNTIME_OPTIONS.find((o) => o.value === s.runtimeType)?.label ?? s.runtimeType}`}
                </span>
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
    </div>
  );
}
