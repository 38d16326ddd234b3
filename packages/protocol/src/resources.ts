import type { AgentCreateBody } from './api.js';
import type { ErrorCode } from './errors.js';
import type { RunStatus } from './events.js';
import type { ExecutionMode, RuntimeType, VmMode } from './ws.js';

/**
 * Response shapes of the HTTP API (DESIGN.md §3): what the control plane returns and what the web
 * console and other clients read. Timestamps are ISO-8601 strings.
 */
export interface User {
  id: string;
  orgId: string;
  email: string;
  name: string | null;
  role: string;
  /** where this user's plane runs; null: the agent's, the org's or the deployment's default */
  vmMode: VmMode | null;
  /** the runtime of this user's sessions whose session and agent name none; null: the org's or the deployment's */
  runtimeType: RuntimeType | null;
  /** through a plane or straight from the LLM; null: the org's or the deployment's */
  executionMode: ExecutionMode | null;
  createdAt: string;
}
export interface Org {
  id: string;
  name: string;
  /** true: the org's users get planes of their own; false: its sessions run on the shared pool (when the deployment has one) */
  dedicatedPlanes: boolean;
  /** the org's VM mode for users and agents that set none; null: the deployment's default */
  defaultVmMode: VmMode | null;
  /** the runtime for users, agents and sessions that set none; null: the deployment's default */
  defaultRuntimeType: RuntimeType | null;
  /** the execution mode of the org's users that set none (`runtime` while the deployment defaults to `direct`: the org is whitelisted); null: the deployment's */
  defaultExecutionMode: ExecutionMode | null;
  createdAt: string;
}
export interface AuthResult {
  token: string;
  user: User;
  org: Org;
}

export interface Agent extends AgentCreateBody {
  id: string;
  orgId: string;
  createdAt: string;
  updatedAt: string;
}

export interface Session {
  id: string;
  orgId: string;
  userId: string;
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

export interface RunUsage {
  tokensIn: number;
  tokensOut: number;
  calls: number;
}
/** GET /runs/:id */
export interface RunView {
  id: string;
  sessionId: string;
  messageId: string | null;
  status: RunStatus;
  attempt: number;
  error?: { code: ErrorCode; message: string };
  usage?: RunUsage;
  /** how it ran: through a plane, or streamed by the control plane from the LLM (no tools) */
  executionMode: ExecutionMode;
  /** why a run meant for a plane ran direct (the fallback monitor's reason) */
  fallbackReason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export const VmStates = ['starting', 'provisioning', 'ready', 'disconnected', 'frozen', 'failed', 'terminated'] as const;
export type VmState = (typeof VmStates)[number];
/** GET /vm/status */
export interface VmStatus {
  instanceId: string | null;
  mode: VmMode;
  state: VmState | 'none';
  connected: boolean;
  lastHeartbeatAt: string | null;
  connectedAt: string | null;
  bootstrapAttempts: number;
  lastError: string | null;
  retryAfterMs: number;
  activeRuns: number;
  /** where this user's sessions run: a plane of their own, or the deployment's shared pool */
  placement: 'dedicated' | 'pool';
  /** the VM mode the next plane of this user starts in, and where that came from (user > agent > org > default) */
  resolvedMode: { mode: VmMode; from: 'user' | 'agent' | 'org' | 'default' };
  /**
   * the runtime a turn runs on, and where that came from (session > agent > user > org > default):
   * for the session or agent named in the query (?sessionId=, ?agentId=), else for the user
   */
  resolvedRuntime: { type: RuntimeType; from: 'session' | 'agent' | 'user' | 'org' | 'default' };
}

/** POST /vm/connect: what `semibot-runtime connect` needs to dial in as the caller's plane. */
export interface VmConnectGrant {
  instanceId: string;
  /** the plane's credential (scoped to the caller), renewed over the socket */
  token: string;
  /** one-time: the first connect presents it */
  ticket: string;
  /** the WebSocket URL, when the deployment names one (SEMIBOT_PUBLIC_WS_URL); else derive it from the server URL */
  wsUrl: string | null;
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

/** An MCP server as the API shows it: env and header values are write-only (shown as `***`). */
export interface McpServerView {
  id: string;
  orgId: string;
  name: string;
  transport: 'stdio' | 'streamable_http';
  command: string | null;
  args: string[];
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
}

export interface UsageRow {
  key: string;
  tokensIn: number;
  tokensOut: number;
  calls: number;
  latencyMsAvg: number | null;
}
/** GET /usage */
export interface UsageSummary {
  from: string;
  to: string;
  groupBy: 'day' | 'model' | 'agent';
  data: UsageRow[];
}

/** GET /audit */
export interface AuditEntry {
  id: string;
  userId: string | null;
  sessionId: string | null;
  runId: string | null;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}
