import { z } from 'zod';

/**
 * Payloads of the plane ↔ control-plane calls behind an agent's tools: skills, MCP servers,
 * long-term memory, snapshots, usage and audit reports. `ws.ts` names the methods; this file
 * says what each carries.
 */
const id = z.string().min(1).max(200);

// ------------------------------------------------------------------ skills (AgentSkills format)

export const SkillRequires = z.object({
  bins: z.array(z.string().max(200)).max(50).default([]),
  env: z.array(z.string().max(200)).max(50).default([]),
});
/** What a plane learns about each of an agent's skills in `start_session`: enough to decide and to cite. */
export const SkillIndexEntry = z.object({
  id,
  name: z.string().max(200),
  description: z.string().max(4000),
  /** sha256 of the package; the plane's cache key */
  hash: z.string().max(128),
  requires: SkillRequires,
});
export type SkillIndexEntry = z.infer<typeof SkillIndexEntry>;
export const SkillFile = z.object({
  path: z.string().min(1).max(500),
  /** base64 of the file's bytes */
  contentBase64: z.string(),
  executable: z.boolean().default(false),
});
export type SkillFile = z.infer<typeof SkillFile>;
export const GetSkillPackageParams = z.object({ skillId: id });
export const SkillPackage = z.object({ skillId: id, name: z.string(), hash: z.string(), files: z.array(SkillFile) });
export type SkillPackage = z.infer<typeof SkillPackage>;

// ------------------------------------------------------------------ MCP

export const McpTransports = ['stdio', 'streamable_http'] as const;
/**
 * An MCP server as the plane sees it. stdio servers carry their command (the plane spawns them);
 * streamable_http servers carry no URL or headers — their credentials stay in the control plane,
 * which calls them on the plane's behalf.
 */
export const McpServerSpec = z.discriminatedUnion('transport', [
  z.object({
    id,
    name: z.string().max(200),
    transport: z.literal('stdio'),
    command: z.string().max(1000),
    args: z.array(z.string().max(4000)).max(100).default([]),
    env: z.record(z.string(), z.string()).default({}),
  }),
  z.object({ id, name: z.string().max(200), transport: z.literal('streamable_http') }),
]);
export type McpServerSpec = z.infer<typeof McpServerSpec>;
export const McpToolInfo = z.object({
  name: z.string(),
  description: z.string().default(''),
  inputSchema: z.record(z.string(), z.unknown()).default({ type: 'object' }),
});
export type McpToolInfo = z.infer<typeof McpToolInfo>;
export const McpListToolsParams = z.object({ serverId: id });
export const McpCallParams = z.object({
  serverId: id,
  tool: z.string().min(1).max(200),
  args: z.record(z.string(), z.unknown()).default({}),
});
export const McpCallResult = z.object({ content: z.unknown(), isError: z.boolean() });
export type McpCallResult = z.infer<typeof McpCallResult>;

// ------------------------------------------------------------------ memory

export const MemorySearchParams = z.object({
  query: z.string().min(1).max(2000),
  agentId: id.optional(),
  limit: z.number().int().min(1).max(50).default(5),
  /** the session searching: a pool plane must name it (its credential reaches only its sessions) */
  sessionId: id.optional(),
});
export const MemoryHit = z.object({ id, content: z.string(), score: z.number(), createdAt: z.string() });
export type MemoryHit = z.infer<typeof MemoryHit>;
export const MemoryWriteParams = z.object({
  sessionId: id,
  agentId: id.optional(),
  content: z.string().min(1).max(20_000),
  tags: z.array(z.string().max(100)).max(20).default([]),
});

// ------------------------------------------------------------------ snapshots, audit

export const SnapshotParams = z.object({
  sessionId: id,
  checkpoint: z.unknown().nullable(),
  shortTermMemory: z.record(z.string(), z.string()),
  conversationState: z.unknown(),
  fileManifest: z.array(z.object({ path: z.string(), size: z.number().int().nonnegative() })).max(10_000),
});
export type SnapshotParams = z.infer<typeof SnapshotParams>;
export const GetSnapshotParams = z.object({ sessionId: id });

export const AuditParams = z.object({
  sessionId: id,
  runId: id,
  action: z.string().min(1).max(100),
  target: z.string().max(500).optional(),
  details: z.record(z.string(), z.unknown()).default({}),
});
