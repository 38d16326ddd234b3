const MARK = Symbol.for('semibot.llm.LlmError');

/**
 * Every provider failure surfaces as this one class so callers need no vendor SDK imports.
 * `retryable` is the provider's judgement (rate limits, 5xx, network, timeouts, truncated
 * streams); the SDK has already spent its own retries on the request before this is thrown.
 */
export class LlmError extends Error {
  readonly code = 'LLM_ERROR' as const;
  readonly status?: number;
  readonly retryable: boolean;

  constructor(message: string, opts: { status?: number; retryable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LlmError';
    if (opts.status !== undefined) this.status = opts.status;
    this.retryable = opts.retryable;
    Object.defineProperty(this, MARK, { value: true });
  }

  // `instanceof LlmError` keeps working when two copies of this package end up in one process.
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== LlmError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARK] === true;
  }
}

/** Statuses worth retrying later: timeout, conflict, rate limit, server side. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
