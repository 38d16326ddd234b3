import { z } from 'zod';
import { ErrorCodes } from './errors.js';
import { PlaneEvent } from './events.js';
import { McpServerSpec, SkillIndexEntry } from './capabilities.js';

/**
 * Frames on /ws/vm between the control plane (CP) and an execution plane (EP). JSON text frames,
 * one message each, discriminated by `type`. Both sides parse every inbound frame with these schemas.
 */
/**
 * Both sides must speak the same one: the control plane refuses a plane of another version
 * (close code `protocolMismatch`). 2: a snapshot no longer carries the history (the control
 * plane's stored messages are the record); a version-1 plane restoring from one would lose it.
 */
export const PROTOCOL_VERSION = 2;

const id = z.string().min(1).max(200);
export const RuntimeTypes = ['semigraph', 'openclaw'] as const;
/** through an execution plane, or streamed by the control plane from the LLM itself (no tools) */
export const ExecutionModes = ['runtime', 'direct'] as const;
export type ExecutionMode = (typeof ExecutionModes)[number];
export type RuntimeType = (typeof RuntimeTypes)[number];
export const VmModes = ['process', 'docker', 'microvm', 'local'] as const;
export type VmMode = (typeof VmModes)[number];

export const ChatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const LlmConfig = z.object({
  baseUrl: z.string(),
  apiKey: z.string(),
  model: z.string(),
});
export type LlmConfig = z.infer<typeof LlmConfig>;

// ---------------------------------------------------------------- EP → CP

/** Must be the first frame. `ticket` is the one-time connect ticket of a fresh bootstrap. */
export const AuthMsg = z.object({
  type: z.literal('auth'),
  token: z.string().min(1).max(4096),
  ticket: z.string().max(512).optional(),
  protocolVersion: z.number().int(),
  pid: z.number().int().optional(),
});
/** A run event; `seq` numbers the events of one run attempt from 1, so re-sent events can be dropped. */
export const SseEventMsg = z.object({
  type: z.literal('sse_event'),
  sessionId: id,
  runId: id,
  attempt: z.number().int().positive(),
  seq: z.number().int().positive(),
  event: PlaneEvent,
});
/** Calls a plane makes to the control plane and waits for (params/results in capabilities.ts). */
export const RequestMethods = [
  'get_history',
  'get_snapshot',
  'get_skill_package',
  'memory_search',
  'memory_write',
  'mcp_list_tools',
  'mcp_call',
] as const;
export type RequestMethod = (typeof RequestMethods)[number];
export const GetHistoryParams = z.object({ sessionId: id, excludeRunId: id.optional() });
export const RequestMsg = z.object({
  type: z.literal('request'),
  requestId: id,
  method: z.enum(RequestMethods),
  sessionId: id.optional(),
  params: z.record(z.string(), z.unknown()).default({}),
});
/** One-way reports from a plane. (memory_write is a request: a saved fact must be findable at once.) */
export const FireAndForgetMethods = ['usage_report', 'audit_log', 'snapshot_sync'] as const;
export type FireAndForgetMethod = (typeof FireAndForgetMethods)[number];
export const UsageReport = z.object({
  sessionId: id,
  runId: id,
  model: z.string().max(200),
  tokensIn: z.number().int().nonnegative(),
  tokensOut: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative(),
});
export type UsageReport = z.infer<typeof UsageReport>;
export const FireAndForgetMsg = z.object({
  type: z.literal('fire_and_forget'),
  method: z.enum(FireAndForgetMethods),
  params: z.record(z.string(), z.unknown()),
});
export const HeartbeatMsg = z.object({
  type: z.literal('heartbeat'),
  activeSessions: z.number().int().nonnegative(),
  activeRuns: z.number().int().nonnegative(),
  rssBytes: z.number().int().nonnegative().optional(),
});
export const ResumeMsg = z.object({ type: z.literal('resume'), pendingRequestIds: z.array(id).max(10_000) });

export const PlaneToControl = z.discriminatedUnion('type', [
  AuthMsg,
  SseEventMsg,
  RequestMsg,
  FireAndForgetMsg,
  HeartbeatMsg,
  ResumeMsg,
]);
export type PlaneToControl = z.infer<typeof PlaneToControl>;

/** Most messages one `batch` frame may carry. */
export const MAX_BATCH_MESSAGES = 1000;
/**
 * Several plane messages in one WebSocket frame, in order: what a plane produced within one tick
 * (a burst of tokens read from one model response chunk) goes out in one write, instead of a frame
 * and a syscall each. A lone message is sent as itself.
 */
export const BatchMsg = z.object({
  type: z.literal('batch'),
  messages: z.array(PlaneToControl).min(1).max(MAX_BATCH_MESSAGES),
});
/** What a plane's text frame holds: one message or a batch of them. */
export const PlaneFrame = z.discriminatedUnion('type', [...PlaneToControl.options, BatchMsg]);
export type PlaneFrame = z.infer<typeof PlaneFrame>;

// ---------------------------------------------------------------- CP → EP

export const InitMsg = z.object({
  type: z.literal('init'),
  protocolVersion: z.number().int(),
  instanceId: id,
  userId: id,
  orgId: id,
  heartbeatIntervalMs: z.number().int().positive(),
  llm: LlmConfig,
  /** heap budget of the plane's OpenClaw gateway, MiB (SEMIBOT_OPENCLAW_MEMORY_MB) */
  openclawMemoryMb: z.number().int().min(128).max(65_536).optional(),
});
export const AgentSpec = z.object({
  id,
  name: z.string(),
  systemPrompt: z.string(),
  model: z.string().nullable(),
});
export type AgentSpec = z.infer<typeof AgentSpec>;
export const StartSessionMsg = z.object({
  type: z.literal('start_session'),
  sessionId: id,
  runtimeType: z.enum(RuntimeTypes),
  agent: AgentSpec,
  skills: z.array(SkillIndexEntry).max(200).default([]),
  mcpServers: z.array(McpServerSpec).max(100).default([]),
});
export const UserMessageMsg = z.object({
  type: z.literal('user_message'),
  sessionId: id,
  runId: id,
  messageId: id,
  attempt: z.number().int().positive(),
  content: z.string(),
  requestId: z.string().max(200).optional(),
  /** W3C trace context of the run's span, so the plane's spans join the same trace */
  traceparent: z.string().max(200).optional(),
});
export const CancelMsg = z.object({ type: z.literal('cancel'), sessionId: id, runId: id });
export const StopSessionMsg = z.object({ type: z.literal('stop_session'), sessionId: id });
export const ResponseMsg = z.object({
  type: z.literal('response'),
  requestId: id,
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ code: z.enum(ErrorCodes), message: z.string() }).optional(),
});
export const ResumeResponseMsg = z.object({
  type: z.literal('resume_response'),
  results: z.array(
    z.object({
      requestId: id,
      status: z.enum(['completed', 'failed', 'lost']),
      result: z.unknown().optional(),
      error: z.object({ code: z.enum(ErrorCodes), message: z.string() }).optional(),
    }),
  ),
});
/** A fresh VM token, sent well before the current one expires; the plane uses it to reconnect. */
export const TokenMsg = z.object({ type: z.literal('token'), token: z.string().min(1).max(4096), expiresInS: z.number().int().positive() });
/** Sent when a frame is refused without closing the socket (e.g. an unknown session). */
export const ErrorMsg = z.object({
  type: z.literal('error'),
  code: z.enum(ErrorCodes),
  message: z.string(),
});

export const ControlToPlane = z.discriminatedUnion('type', [
  InitMsg,
  StartSessionMsg,
  UserMessageMsg,
  CancelMsg,
  StopSessionMsg,
  ResponseMsg,
  ResumeResponseMsg,
  TokenMsg,
  ErrorMsg,
]);
export type ControlToPlane = z.infer<typeof ControlToPlane>;

export type MsgOf<U extends { type: string }, T extends U['type']> = Extract<U, { type: T }>;

const isId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 200;
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const hasExactly = (o: object, n: number) => Object.keys(o).length === n;

/**
 * Whether `m` is a streamed token exactly as SseEventMsg with a TextEvent would parse it: every
 * field of the right type and no other (zod would strip others, so those go through zod).
 */
function isTextEventMsg(m: unknown): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  if (o.type !== 'sse_event' || !hasExactly(o, 6) || !isId(o.sessionId) || !isId(o.runId) || !isPositiveInt(o.attempt) || !isPositiveInt(o.seq)) return false;
  const e = o.event as Record<string, unknown> | null;
  return typeof e === 'object' && e !== null && e.type === 'text' && typeof e.text === 'string' && typeof e.runId === 'string' && e.runId.length >= 1 && hasExactly(e, 3);
}

/**
 * Parses a plane's frame: `parseFrame(PlaneFrame, raw)`, with the hot shape — text events, alone or
 * in a batch, most of what a plane ever sends — checked by hand instead of by zod, whose parse of
 * each token (and the copy it returns) was the control plane's largest cost after the socket
 * writes (npm run bench, 200 streams). Anything else, or anything off, goes through zod as before.
 */
export function parsePlaneFrame(raw: string): { ok: true; value: PlaneFrame } | { ok: false; error: string } {
  let batch: PlaneFrame | null = null;
  const parsed = parseFrame(PlaneFrame, raw, (json) => isTextEventMsg(json) || (batch = batchByMessage(json)) !== null);
  return parsed.ok && batch ? { ok: true, value: batch } : parsed;
}

/**
 * A batch checked message by message: text events by hand, any other by the message schema — the
 * batch a busy plane sends mixes the tokens of many streams with a few other events (a step, a
 * usage report, a `done`), and zod's parse of the whole batch for their sake cost a 50-message
 * frame 60 µs on the control plane's event loop against 39 µs now, its JSON.parse included (2-core
 * EPYC VM, warm JIT). A batch of text alone is returned as parsed, uncopied. Null when the envelope
 * or a message is off: the whole frame then goes through zod, for the same verdict and error.
 */
function batchByMessage(json: unknown): PlaneFrame | null {
  const o = json as { type?: unknown; messages?: unknown } | null;
  if (o?.type !== 'batch' || !Array.isArray(o.messages) || !hasExactly(o, 2) || o.messages.length < 1 || o.messages.length > MAX_BATCH_MESSAGES) return null;
  let messages: PlaneToControl[] | null = null; // a copy, made at the first message zod returns anew
  const given = o.messages as unknown[];
  for (let i = 0; i < given.length; i++) {
    if (isTextEventMsg(given[i])) {
      messages?.push(given[i] as PlaneToControl);
      continue;
    }
    const one = PlaneToControl.safeParse(given[i]);
    if (!one.success) return null;
    (messages ??= given.slice(0, i) as PlaneToControl[]).push(one.data);
  }
  return messages ? { type: 'batch', messages } : (o as PlaneFrame);
}

/**
 * Parses one text frame. Never throws: a bad frame is an expected failure. `trusted`: a shape
 * checked by hand that the schema would take unchanged, passed through without it.
 */
export function parseFrame<S extends z.ZodType>(
  schema: S,
  raw: string,
  trusted?: (json: unknown) => boolean,
): { ok: true; value: z.infer<S> } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'frame is not valid JSON' };
  }
  if (trusted?.(json)) return { ok: true, value: json as z.infer<S> };
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error) };
  return { ok: true, value: parsed.data };
}
