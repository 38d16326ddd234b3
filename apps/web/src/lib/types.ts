import type { RuntimeType, VmMode } from '@semibot/protocol';

/**
 * Response shapes of the HTTP API as the console reads them. Request bodies and events come from
 * @semibot/protocol; the control plane's row types are not exported, so the few fields used are named here.
 */
export interface User {
  id: string;
  email: string;
  name: string | null;
}
export interface Org {
  id: string;
  name: string;
}
export interface AuthResult {
  token: string;
  user: User;
  org: Org;
}

export interface Agent {
  id: string;
  name: string;
  systemPrompt: string;
  model: string | null;
  runtimeType: RuntimeType;
  defaultVmMode: VmMode | null;
  skillIds: string[];
  mcpServerIds: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Session {
  id: string;
  agentId: string;
  title: string | null;
  runtimeType: RuntimeType | null;
  createdAt: string;
  updatedAt: string;
}

export interface Message {
  id: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  runId: string | null;
  createdAt: string;
}

export interface Run {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  error?: { code: string; message: string };
}

export interface VmStatus {
  instanceId: string | null;
  mode: VmMode;
  state: 'none' | 'starting' | 'provisioning' | 'ready' | 'disconnected' | 'frozen' | 'failed' | 'terminated';
  connected: boolean;
  lastHeartbeatAt: string | null;
  connectedAt: string | null;
  bootstrapAttempts: number;
  lastError: string | null;
  retryAfterMs: number;
  activeRuns: number;
}

export interface Skill {
  id: string;
  name: string;
  description: string;
  requires: { bins: string[]; env: string[] };
  hash: string;
  sizeBytes: number;
  createdAt: string;
}

export interface McpServer {
  id: string;
  name: string;
  transport: 'stdio' | 'streamable_http';
  command: string | null;
  args: string[];
  /** values are masked (`***`) by the API: secrets are write-only */
  env: Record<string, string>;
  url: string | null;
  headers: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface Memory {
  id: string;
  agentId: string | null;
  sessionId: string | null;
  content: string;
  tags: string[];
  createdAt: string;
  score?: number;
}

export interface UsageRow {
  key: string;
  tokensIn: number;
  tokensOut: number;
  calls: number;
  latencyMsAvg: number | null;
}
export interface UsageSummary {
  from: string;
  to: string;
  groupBy: 'day' | 'model' | 'agent';
  data: UsageRow[];
}

export const RUNTIME_OPTIONS = [
  { value: 'semigraph', label: 'SemiGraph' },
  { value: 'openclaw', label: 'OpenClaw' },
] as const satisfies readonly { value: RuntimeType; label: string }[];

export const VM_MODE_OPTIONS = [
  { value: 'process', label: 'Process (embedded)' },
  { value: 'docker', label: 'Docker container' },
  { value: 'firecracker', label: 'Firecracker microVM' },
  { value: 'local', label: 'Local machine' },
] as const satisfies readonly { value: VmMode; label: string }[];
