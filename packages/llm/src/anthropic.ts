import type Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, TextBlockParam, Tool, ToolResultBlockParam, ToolUseBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { LlmError } from './errors.js';
import { sdkErrorToLlmError } from './sdk-errors.js';
import {
  estimateTokens,
  messageChars,
  type LlmChunk,
  type LlmMessage,
  type LlmProvider,
  type LlmStreamRequest,
  type LlmToolCall,
  type LlmToolSpec,
} from './types.js';
import { IdleWatchdog } from './watchdog.js';

export interface AnthropicConfig {
  apiKey: string;
  /** Default model; a request's `model` overrides it. */
  model: string;
  /** @default 'https://api.anthropic.com' */
  baseUrl?: string;
  /** Max wait for the response to start, and max silence between two events. @default 60_000 */
  timeoutMs?: number;
  /** Retries before streaming started, with the SDK's backoff. @default 2 */
  maxRetries?: number;
  /** Anthropic requires an output cap on every request. @default 4096 */
  maxTokens?: number;
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
}

type Sdk = typeof import('@anthropic-ai/sdk');
let sdk: Promise<Sdk> | null = null;
/** The SDK loads on first use: a process that never calls Anthropic never pays its ~12 MB. */
const loadSdk = () => (sdk ??= import('@anthropic-ai/sdk'));

// Anthropic stop reasons in the OpenAI vocabulary the rest of Semibot uses.
const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
};

export function createAnthropicProvider(cfg: AnthropicConfig): LlmProvider {
  const timeoutMs = cfg.timeoutMs ?? 60_000;
  const where = cfg.baseUrl ?? 'api.anthropic.com';
  let client: Promise<Anthropic> | null = null;
  const getClient = () =>
    (client ??= loadSdk().then(
      ({ default: AnthropicClient }) =>
        new AnthropicClient({
          apiKey: cfg.apiKey,
          // Explicit, so ANTHROPIC_BASE_URL in the environment cannot silently redirect calls.
          baseURL: cfg.baseUrl ?? 'https://api.anthropic.com',
          timeout: timeoutMs,
          maxRetries: cfg.maxRetries ?? 2,
          ...(cfg.fetch ? { fetch: cfg.fetch } : {}),
        }),
    ));
  return {
    name: 'anthropic',
    stream: (req) => streamMessages(getClient, cfg, where, timeoutMs, req),
  };
}

async function* streamMessages(
  getClient: () => Promise<Anthropic>,
  cfg: AnthropicConfig,
  where: string,
  timeoutMs: number,
  req: LlmStreamRequest,
): AsyncGenerator<LlmChunk, void, undefined> {
  const started = performance.now();
  const watchdog = new IdleWatchdog(timeoutMs, req.signal);
  const { system, messages } = toWireMessages(req.messages);
  let servedModel = req.model ?? cfg.model;
  let firstTokenMs: number | null = null;
  let outChars = 0;
  let tokensIn: number | null = null;
  let tokensOut: number | null = null;
  let stopReason: string | null = null;
  // Content blocks are indexed; tool_use blocks collect their input JSON from deltas.
  const calls: (LlmToolCall | undefined)[] = [];

  try {
    const client = await getClient();
    const stream = await client.messages.create(
      {
        model: servedModel,
        max_tokens: cfg.maxTokens ?? 4096,
        messages,
        ...(system ? { system } : {}),
        ...(req.tools?.length ? { tools: toWireTools(req.tools) } : {}),
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        stream: true,
      },
      { signal: watchdog.signal },
    );
    watchdog.start();
    for await (const ev of stream) {
      watchdog.touch();
      switch (ev.type) {
        case 'message_start':
          servedModel = ev.message.model || servedModel;
          tokensIn = ev.message.usage.input_tokens;
          break;
        case 'content_block_start':
          if (ev.content_block.type === 'tool_use') {
            firstTokenMs ??= performance.now() - started;
            calls[ev.index] = { id: ev.content_block.id, name: ev.content_block.name, arguments: '' };
          }
          break;
        case 'content_block_delta':
          if (ev.delta.type === 'text_delta') {
            if (!ev.delta.text) break;
            firstTokenMs ??= performance.now() - started;
            outChars += ev.delta.text.length;
            if (req.onText) req.onText(ev.delta.text);
            else yield { type: 'text', text: ev.delta.text };
          } else if (ev.delta.type === 'input_json_delta') {
            const call = calls[ev.index];
            if (call) call.arguments += ev.delta.partial_json;
          }
          break;
        case 'message_delta':
          if (ev.delta.stop_reason) stopReason = ev.delta.stop_reason;
          tokensOut = ev.usage.output_tokens;
          if (ev.usage.input_tokens != null) tokensIn = ev.usage.input_tokens;
          break;
      }
    }
  } catch (err) {
    if (watchdog.fired) throw idleError(where, timeoutMs);
    if (req.signal?.aborted) return;
    const { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } = await loadSdk();
    throw sdkErrorToLlmError(err, where, { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError });
  } finally {
    watchdog.stop();
  }
  if (watchdog.fired) throw idleError(where, timeoutMs);
  if (req.signal?.aborted) return;
  if (stopReason === null) throw new LlmError(`stream from ${where} ended before the model finished`, { retryable: true });

  const done: LlmToolCall[] = [];
  for (const c of calls) {
    if (!c) continue;
    // A tool called without arguments streams no input deltas at all.
    if (c.arguments === '') c.arguments = '{}';
    outChars += c.name.length + c.arguments.length;
    done.push(c);
  }
  if (done.length > 0) yield { type: 'tool_calls', calls: done };
  yield {
    type: 'usage',
    model: servedModel,
    tokensIn: tokensIn ?? estimateTokens(messageChars(req.messages)),
    tokensOut: tokensOut ?? estimateTokens(outChars),
    latencyMs: Math.round(performance.now() - started),
    firstTokenMs: firstTokenMs === null ? null : Math.round(firstTokenMs),
  };
  yield { type: 'finish', reason: FINISH[stopReason] ?? stopReason };
}

/**
 * Anthropic takes the system prompt out of band, and tool results as `tool_result` blocks of a
 * user turn; consecutive results (parallel calls) must share one user turn.
 */
export function toWireMessages(input: LlmMessage[]): { system: string; messages: MessageParam[] } {
  const system: string[] = [];
  const messages: MessageParam[] = [];
  let results: ToolResultBlockParam[] | null = null;
  for (const m of input) {
    if (m.role !== 'tool') results = null;
    switch (m.role) {
      case 'system':
        system.push(m.content);
        break;
      case 'user':
        messages.push({ role: 'user', content: m.content });
        break;
      case 'assistant': {
        if (!m.toolCalls?.length) {
          messages.push({ role: 'assistant', content: m.content });
          break;
        }
        const blocks: (TextBlockParam | ToolUseBlockParam)[] = m.content ? [{ type: 'text', text: m.content }] : [];
        for (const c of m.toolCalls) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: parseInput(c.arguments) });
        messages.push({ role: 'assistant', content: blocks });
        break;
      }
      case 'tool':
        if (!results) {
          results = [];
          messages.push({ role: 'user', content: results });
        }
        results.push({ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content });
        break;
    }
  }
  return { system: system.join('\n\n'), messages };
}

function toWireTools(tools: LlmToolSpec[]): Tool[] {
  return tools.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: { type: 'object', ...t.parameters } as Tool.InputSchema,
  }));
}

/**
 * Anthropic wants the input as an object. Models occasionally emit invalid JSON; it is wrapped
 * rather than dropped so the conversation can still be replayed.
 */
function parseInput(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args || '{}');
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { _raw: args };
  }
}

function idleError(where: string, timeoutMs: number): LlmError {
  return new LlmError(`stream from ${where} sent no data for ${timeoutMs} ms`, { retryable: true });
}
