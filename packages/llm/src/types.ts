/**
 * The provider-neutral surface the runtime codes against. Wire shapes of each vendor stay inside
 * their provider module.
 */

export interface LlmToolSpec {
  name: string;
  description: string;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface LlmToolCall {
  id: string;
  name: string;
  /** The arguments as the model produced them: a JSON text, not parsed (the caller validates). */
  arguments: string;
}

export type LlmMessage =
  | { role: 'system' | 'user' | 'assistant'; content: string; toolCalls?: LlmToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/**
 * One streamed event. Order: any number of `text`, then at most one `tool_calls` (all calls of
 * the turn, complete), then exactly one `usage`, then exactly one `finish`.
 */
export type LlmChunk =
  | { type: 'text'; text: string }
  | { type: 'tool_calls'; calls: LlmToolCall[] }
  | {
      type: 'usage';
      model: string;
      tokensIn: number;
      tokensOut: number;
      /** Request start to end of stream. */
      latencyMs: number;
      /** Request start to the first text or tool-call delta; null when nothing was produced. */
      firstTokenMs: number | null;
    }
  /** Reason in OpenAI's vocabulary whatever the vendor: `stop`, `tool_calls`, `length`, ... */
  | { type: 'finish'; reason: string };

export interface LlmStreamRequest {
  /** Overrides the provider's configured model. */
  model?: string;
  messages: LlmMessage[];
  tools?: LlmToolSpec[];
  /**
   * Cancels the call. An aborted stream ends quietly: the iteration returns without `usage` or
   * `finish`, and nothing is thrown — check `signal.aborted` after the loop to tell a cancel
   * from a completed turn (a completed turn always ends with `finish`).
   */
  signal?: AbortSignal;
  temperature?: number;
  /**
   * Takes each text delta the moment it is read, synchronously, instead of a yielded `text` chunk
   * (none are yielded then): a relay's hot path, without the promise hops of an async iterator per
   * token. The rest (`tool_calls`, `usage`, `finish`) is still yielded, after the text.
   */
  onText?: (text: string) => void;
}

export interface LlmProvider {
  readonly name: string;
  /** Throws `LlmError` on failure (HTTP status, network, timeout, truncated stream). */
  stream(req: LlmStreamRequest): AsyncIterable<LlmChunk>;
}

/** Rough token count for servers that report no usage: ~4 characters per token. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function messageChars(messages: LlmMessage[]): number {
  let n = 0;
  for (const m of messages) {
    n += m.content.length;
    if (m.role !== 'tool' && m.toolCalls) for (const c of m.toolCalls) n += c.name.length + c.arguments.length;
  }
  return n;
}
