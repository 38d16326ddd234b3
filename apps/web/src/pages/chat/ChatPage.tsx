import { Bot, MessagesSquare } from 'lucide-react';
import { Link, Navigate, useNavigate, useParams } from 'react-router';
import { useAgents, useSessions } from '../../lib/queries.js';
import { EmptyState } from '../../components/ui/Card.js';
import { SelectField } from '../../components/ui/Field.js';
import { ChatSession } from './ChatSession.js';
import { SessionList, sessionTitle } from './SessionList.js';

/** /chat/:agentId/:sessionId — sessions of one agent on the left, the open session on the right. */
export function ChatPage() {
  const { agentId, sessionId } = useParams();
  const agents = useAgents();
  const sessions = useSessions(agentId);
  const navigate = useNavigate();
  if (!agentId && agents.data?.[0]) return <Navigate to={`/chat/${agents.data[0].id}`} replace />;
  if (agents.data?.length === 0)
    return (
      <div className="p-8">
        <EmptyState icon={<Bot className="size-8" />} title="No agents to chat with">
          <Link to="/agents/new" className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Create an agent
          </Link>{' '}
          first.
        </EmptyState>
      </div>
    );
  const agent = agents.data?.find((a) => a.id === agentId);
  const session = sessions.data?.find((s) => s.id === sessionId);
  return (
    <div className="flex h-full min-h-0">
      <aside className="flex w-64 shrink-0 flex-col border-r border-zinc-200 bg-zinc-50/80 dark:border-zinc-800 dark:bg-zinc-900/30 max-lg:w-56">
        <div className="border-b border-zinc-200 p-3 dark:border-zinc-800">
          <SelectField label="Agent" value={agentId ?? ''} onChange={(e) => navigate(`/chat/${e.target.value}`)}>
            {agents.data?.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </SelectField>
        </div>
        {agentId && <SessionList agentId={agentId} />}
      </aside>
      <section className="flex min-w-0 flex-1 flex-col" aria-label="Chat">
        <header className="flex h-14 shrink-0 items-center gap-3 border-b border-zinc-200 px-6 dark:border-zinc-800">
          <h1 className="truncate text-sm font-semibold">{session ? sessionTitle(session) : (agent?.name ?? 'Chat')}</h1>
          {agent && <span className="truncate text-xs text-zinc-500">{agent.name}</span>}
        </header>
        <div className="min-h-0 flex-1">
          {sessionId ? (
            <ChatSession key={sessionId} sessionId={sessionId} />
          ) : (
            <div className="p-8">
              <EmptyState icon={<MessagesSquare className="size-8" />} title="Pick a session or start a new one" />
            </div>
          )}
        </div>
      </section>
    </div>
  );
}
