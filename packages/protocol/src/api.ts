import { z } from 'zod';
import { ExecutionModes, RuntimeTypes, VmModes } from './ws.js';

/** Request bodies of the HTTP API (DESIGN.md §3). Shared by the control plane and the web UI. */
export const RegisterBody = z.object({
  email: z.email().max(320),
  password: z.string().min(8).max(200),
  name: z.string().min(1).max(200).optional(),
});
export const LoginBody = z.object({ email: z.string().max(320), password: z.string().max(200) });

const agentFields = {
  name: z.string().min(1).max(200),
  systemPrompt: z.string().max(100_000),
  model: z.string().max(200).nullable(),
  /** null: the runtime the session's user, then org, then the deployment sets */
  runtimeType: z.enum(RuntimeTypes).nullable(),
  defaultVmMode: z.enum(VmModes).nullable(),
  skillIds: z.array(z.string().max(100)).max(200),
  mcpServerIds: z.array(z.string().max(100)).max(200),
  openclawConfig: z.record(z.string(), z.unknown()).nullable(),
};
export const AgentCreateBody = z.object({
  ...agentFields,
  systemPrompt: agentFields.systemPrompt.default('You are a helpful assistant.'),
  model: agentFields.model.default(null),
  runtimeType: agentFields.runtimeType.default(null),
  defaultVmMode: agentFields.defaultVmMode.default(null),
  skillIds: agentFields.skillIds.default([]),
  mcpServerIds: agentFields.mcpServerIds.default([]),
  openclawConfig: agentFields.openclawConfig.default(null),
});
export const AgentPatchBody = z.object(agentFields).partial();
/** PATCH /org (the org's owner only) */
export const OrgPatchBody = z
  .object({
    dedicatedPlanes: z.boolean(),
    defaultVmMode: z.enum(VmModes).nullable(),
    defaultRuntimeType: z.enum(RuntimeTypes).nullable(),
    defaultExecutionMode: z.enum(ExecutionModes).nullable(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');
/** PATCH /auth/me: the caller's own settings (null: inherit from the agent, the org, the default) */
export const MePatchBody = z
  .object({ vmMode: z.enum(VmModes).nullable(), runtimeType: z.enum(RuntimeTypes).nullable(), executionMode: z.enum(ExecutionModes).nullable() })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');
export const SessionCreateBody = z.object({
  agentId: z.string().min(1).max(100),
  title: z.string().max(500).optional(),
  runtimeType: z.enum(RuntimeTypes).optional(),
});
export const MessageCreateBody = z.object({
  content: z.string().min(1).max(200_000),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

export type RegisterBody = z.infer<typeof RegisterBody>;
export type AgentCreateBody = z.infer<typeof AgentCreateBody>;
export type AgentPatchBody = z.infer<typeof AgentPatchBody>;
export type SessionCreateBody = z.infer<typeof SessionCreateBody>;
export type MessageCreateBody = z.infer<typeof MessageCreateBody>;
