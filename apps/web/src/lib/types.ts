import type { RuntimeType, VmMode } from '@semibot/protocol';

/** Response shapes of the HTTP API: shared with the control plane through @semibot/protocol. */
export type {
  Agent,
  AuthResult,
  Message,
  Org,
  Session,
  Skill,
  UsageRow,
  UsageSummary,
  User,
  VmStatus,
} from '@semibot/protocol';
export type { McpServerView as McpServer, RunView as Run } from '@semibot/protocol';

/** A memory as listed, or as a search hit (which adds its score). */
export type Memory = import('@semibot/protocol').Memory & { score?: number };

export const RUNTIME_OPTIONS = [
  { value: 'semigraph', label: 'SemiGraph' },
  { value: 'openclaw', label: 'OpenClaw' },
] as const satisfies readonly { value: RuntimeType; label: string }[];

export const VM_MODE_OPTIONS = [
  { value: 'process', label: 'Process (embedded)' },
  { value: 'docker', label: 'Docker container' },
  { value: 'microvm', label: 'MicroVM (QEMU)' },
  { value: 'local', label: 'Local machine' },
] as const satisfies readonly { value: VmMode; label: string }[];
