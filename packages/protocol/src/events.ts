import { z } from 'zod';
import { ErrorCodes } from './errors.js';

/**
 * Server-Sent Events a client sees on a session stream. Every payload carries `type` and `runId`;
 * the SSE `id:` line carries the per-session sequence number (not part of the payload).
 */
const runId = z.string().min(1);

export const RunStatuses = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RunStatuses)[number];
export const FinalRunStatuses = ['completed', 'failed', 'cancelled'] as const;
export type FinalRunStatus = (typeof FinalRunStatuses)[number];

export const RunEvent = z.object({ type: z.literal('run'), runId, messageId: z.string() });
export const TextEvent = z.object({ type: z.literal('text'), runId, text: z.string() });
export const PlanStepEvent = z.object({
  type: z.literal('plan_step'),
  runId,
  stepId: z.string(),
  title: z.string(),
  status: z.enum(['running', 'done', 'failed']),
});
const callFields = { runId, callId: z.string(), name: z.string(), args: z.unknown() };
const resultFields = { runId, callId: z.string(), result: z.unknown(), isError: z.boolean().default(false) };
export const ToolCallEvent = z.object({ type: z.literal('tool_call'), ...callFields });
export const ToolResultEvent = z.object({ type: z.literal('tool_result'), ...resultFields });
export const SkillCallEvent = z.object({ type: z.literal('skill_call'), ...callFields });
export const SkillResultEvent = z.object({ type: z.literal('skill_result'), ...resultFields });
export const McpCallEvent = z.object({ type: z.literal('mcp_call'), ...callFields, server: z.string() });
export const McpResultEvent = z.object({ type: z.literal('mcp_result'), ...resultFields });
export const UsageEvent = z.object({
  type: z.literal('usage'),
  runId,
  model: z.string(),
  tokensIn: z.number().int().nonnegative(),
  tokensOut: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative(),
});
export const ErrorEvent = z.object({
  type: z.literal('error'),
  runId,
  code: z.enum(ErrorCodes),
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
/**
 * An interrupted turn continues from its last checkpoint on a new attempt (the plane died or was
 * replaced). Text streamed after that checkpoint is void: the client keeps the first `textLength`
 * characters of this run's text and appends what follows. The stored answer follows the same rule.
 */
export const StepRestartEvent = z.object({
  type: z.literal('step_restart'),
  runId,
  stepId: z.string(),
  textLength: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
});
export const DoneEvent = z.object({ type: z.literal('done'), runId, status: z.enum(FinalRunStatuses) });
/** Sent instead of a replay when the requested id is older than what is retained. */
export const ResyncEvent = z.object({
  type: z.literal('resync'),
  runId: z.string().nullable(),
  reason: z.string(),
  oldestRetainedId: z.number().int().nullable(),
});

export const SseEvent = z.discriminatedUnion('type', [
  RunEvent,
  TextEvent,
  PlanStepEvent,
  ToolCallEvent,
  ToolResultEvent,
  SkillCallEvent,
  SkillResultEvent,
  McpCallEvent,
  McpResultEvent,
  UsageEvent,
  ErrorEvent,
  StepRestartEvent,
  DoneEvent,
  ResyncEvent,
]);
export type SseEvent = z.infer<typeof SseEvent>;
export type SseEventType = SseEvent['type'];
export type SseEventOf<T extends SseEventType> = Extract<SseEvent, { type: T }>;

/** Events an execution plane may emit for a run (the control plane owns `run` and `resync`). */
export const PlaneEvent = z.discriminatedUnion('type', [
  TextEvent,
  PlanStepEvent,
  ToolCallEvent,
  ToolResultEvent,
  SkillCallEvent,
  SkillResultEvent,
  McpCallEvent,
  McpResultEvent,
  UsageEvent,
  ErrorEvent,
  StepRestartEvent,
  DoneEvent,
]);
export type PlaneEvent = z.infer<typeof PlaneEvent>;

/** A stored event as the relay keeps it: its per-session id plus the payload. */
export interface SequencedEvent {
  id: number;
  event: SseEvent;
}
