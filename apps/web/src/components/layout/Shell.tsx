import { Bot, BrainCircuit, ChartColumn, LogOut, MessagesSquare, Package, Plug, Server } from 'lucide-react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { useAuth } from '../../lib/auth.js';
import { planeTone, useVmStatus } from '../../lib/queries.js';
import { Badge } from '../ui/Badge.js';
import { ThemeToggle } from './ThemeToggle.js';

const nav = [
  { to: '/agents', label: 'Agents', Icon: Bot },
  { to: '/chat', label: 'Chat', Icon: MessagesSquare },
  { to: '/plane', label: 'Execution plane', Icon: Server },
  { to: '/usage', label: 'Usage', Icon: ChartColumn },
  { to: '/skills', label: 'Skills', Icon: Package },
  { to: '/mcp', label: 'MCP servers', Icon: Plug },
  { to: '/memories', label: 'Memories', Icon: BrainCircuit },
];

export function Shell() {
  const { me, signOut } = useAuth();
  const navigate = useNavigate();
  const vm = useVmStatus();
  return (
    <div className="flex h-dvh overflow-hidden">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:z-50 focus:m-2 focus:rounded focus:bg-white focus:px-3 focus:py-2">
        Skip to content
      </a>
      <aside className="flex w-56 shrink-0 flex-col border-r border-zinc-200 bg-white/70 dark:border-zinc-800 dark:bg-zinc-900/60 max-md:w-16">
        <div className="flex h-14 items-center gap-2 px-4">
          <div className="grid size-7 place-items-center rounded-lg bg-indigo-600 text-sm font-bold text-white" aria-hidden>
            S
          </div>
          <span className="font-semibold tracking-tight max-md:hidden">Semibot</span>
        </div>
        <nav aria-label="Main" className="flex-1 space-y-0.5 px-2 py-2">
          {nav.map(({ to, label, Icon }) => (
            <NavLink
              key={to}
              to={to}
              title={label}
              className={({ isActive }) =>
                `flex items-center gap-2.5 rounded-md px-2.5 py-2 text-sm font-medium transition-colors ${
                  isActive
                    ? 'bg-indigo-50 text-indigo-700 dark:bg-indigo-500/10 dark:text-indigo-300'
                    : 'text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100'
                }`
              }
            >
              <Icon className="size-4 shrink-0" aria-hidden />
              <span className="max-md:sr-only">{label}</span>
            </NavLink>
          ))}
        </nav>
        <div className="space-y-3 border-t border-zinc-200 p-3 dark:border-zinc-800">
          {vm.data && (
            <NavLink to="/plane" className="flex items-center justify-between gap-2 text-xs text-zinc-500 max-md:hidden" aria-label={`Execution plane: ${vm.data.state}`}>
              <span>Plane</span>
              <Badge tone={planeTone(vm.data.state)} pulse={vm.data.state === 'starting' || vm.data.state === 'provisioning'}>
                {vm.data.state}
              </Badge>
            </NavLink>
          )}
          <ThemeToggle />
          <div className="flex items-center justify-between gap-2">
            <span className="truncate text-xs text-zinc-500 max-md:hidden" title={me?.user.email}>
              {me?.user.email}
            </span>
            <button
              type="button"
              aria-label="Sign out"
              title="Sign out"
              onClick={() => {
                signOut();
                navigate('/signin');
              }}
              className="rounded p-1.5 text-zinc-500 hover:bg-zinc-100 hover:text-zinc-900 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
            >
              <LogOut className="size-4" aria-hidden />
            </button>
          </div>
        </div>
      </aside>
      <main id="main" className="min-w-0 flex-1 overflow-y-auto">
        <Outlet />
      </main>
    </div>
  );
}
