import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { useAuth } from './lib/auth.js';
import { Shell } from './components/layout/Shell.js';
import { AuthPage } from './pages/auth/AuthPage.js';
import { AgentsPage } from './pages/agents/AgentsPage.js';
import { AgentEditPage } from './pages/agents/AgentEditPage.js';
import { ChatPage } from './pages/chat/ChatPage.js';
import { PlanePage } from './pages/plane/PlanePage.js';
import { SkillsPage } from './pages/skills/SkillsPage.js';
import { McpServersPage } from './pages/mcp/McpServersPage.js';
import { MemoriesPage } from './pages/memories/MemoriesPage.js';

// the chart library is most of the bundle: load it with the usage page, not on every first paint
const UsagePage = lazy(() => import('./pages/usage/UsagePage.js').then((m) => ({ default: m.UsagePage })));

function RequireAuth({ children }: { children: ReactNode }) {
  const { token, signedOutByUser } = useAuth();
  const location = useLocation();
  // an expired token returns the user to where they were once signed in again
  if (!token) return <Navigate to="/signin" replace state={signedOutByUser ? null : { from: location.pathname }} />;
  return <>{children}</>;
}

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<AuthPage mode="signin" />} />
      <Route path="/signup" element={<AuthPage mode="signup" />} />
      <Route
        element={
          <RequireAuth>
            <Shell />
          </RequireAuth>
        }
      >
        <Route index element={<Navigate to="/agents" replace />} />
        <Route path="agents" element={<AgentsPage />} />
        <Route path="agents/new" element={<AgentEditPage />} />
        <Route path="agents/:agentId/edit" element={<AgentEditPage />} />
        <Route path="chat" element={<ChatPage />} />
        <Route path="chat/:agentId" element={<ChatPage />} />
        <Route path="chat/:agentId/:sessionId" element={<ChatPage />} />
        <Route path="plane" element={<PlanePage />} />
        <Route
          path="usage"
          element={
            <Suspense fallback={<p className="p-8 text-sm text-zinc-500">Loading usage…</p>}>
              <UsagePage />
            </Suspense>
          }
        />
        <Route path="skills" element={<SkillsPage />} />
        <Route path="mcp" element={<McpServersPage />} />
        <Route path="memories" element={<MemoriesPage />} />
        <Route path="*" element={<Navigate to="/agents" replace />} />
      </Route>
    </Routes>
  );
}
