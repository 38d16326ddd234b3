import { useQuery } from '@tanstack/react-query';
import { api } from './api.js';
import type { Agent, McpServer, Session, Skill, VmStatus } from './types.js';

/** Query hooks shared by several pages; keys are the API paths so invalidation reads naturally. */
export const keys = {
  agents: ['agents'] as const,
  sessions: (agentId: string) => ['sessions', agentId] as const,
  messages: (sessionId: string) => ['messages', sessionId] as const,
  skills: ['skills'] as const,
  mcp: ['mcp-servers'] as const,
  vm: ['vm-status'] as const,
};

const list = <T,>(path: string) => async () => (await api<{ data: T[] }>('GET', path)).data;

export const useAgents = () => useQuery({ queryKey: keys.agents, queryFn: list<Agent>('/agents') });
export const useSkills = () => useQuery({ queryKey: keys.skills, queryFn: list<Skill>('/skills') });
export const useMcpServers = () => useQuery({ queryKey: keys.mcp, queryFn: list<McpServer>('/mcp-servers') });
export const useSessions = (agentId: string | undefined) =>
  useQuery({ queryKey: keys.sessions(agentId ?? ''), queryFn: list<Session>(`/sessions?agentId=${agentId}`), enabled: !!agentId });

/** Polled fast while the plane is on its way (starting, provisioning, cooling down), slowly otherwise. */
export const useVmStatus = (opts: { fast?: boolean } = {}) =>
  useQuery({
    queryKey: keys.vm,
    queryFn: () => api<VmStatus>('GET', '/vm/status'),
    refetchInterval: (q) => {
      const s = q.state.data;
      const moving = s && (s.state === 'starting' || s.state === 'provisioning' || s.retryAfterMs > 0);
      return opts.fast || moving ? 1_500 : 10_000;
    },
  });

/** GET /readyz (outside the API): what this deployment can run. One query, read through selectors. */
interface Readyz {
  vmModes?: Record<string, true | string>;
  runtimes?: Record<string, true | string>;
}
const readyz = {
  queryKey: ['readyz'],
  queryFn: async () => (await (await fetch('/readyz')).json()) as Readyz,
  staleTime: 60_000,
};

/** Which VM modes this deployment can run: true, or why not. */
export const useVmModesAvailable = () => useQuery({ ...readyz, select: (r: Readyz) => r.vmModes ?? {} });

/** Which runtimes (SemiGraph, OpenClaw) this deployment's planes can run: true, or why not. */
export const useRuntimesAvailable = () => useQuery({ ...readyz, select: (r: Readyz) => r.runtimes ?? {} });

export const planeTone = (s: VmStatus['state']) =>
  s === 'ready' ? 'green' : s === 'starting' || s === 'provisioning' ? 'amber' : s === 'failed' || s === 'disconnected' ? 'red' : 'neutral';
