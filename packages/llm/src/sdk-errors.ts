import { LlmError, isRetryableStatus } from './errors.js';

type Ctor = abstract new (...args: never[]) => object;

/**
 * The error classes of a Stainless-generated vendor SDK (both `openai` and `@anthropic-ai/sdk`
 * are), passed in so this mapping imports neither SDK.
 */
export interface SdkErrorClasses {
  APIError: Ctor;
  APIConnectionError: Ctor;
  APIConnectionTimeoutError: Ctor;
  APIUserAbortError: Ctor;
}

/** Maps whatever an SDK call or stream threw to an `LlmError`; `where` names the server. */
export function sdkErrorToLlmError(err: unknown, where: string, sdk: SdkErrorClasses): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof sdk.APIConnectionTimeoutError) {
    return new LlmError(`request to ${where} timed out`, { retryable: true, cause: err });
  }
  if (err instanceof sdk.APIConnectionError && !(err instanceof sdk.APIUserAbortError)) {
    const cause = (err as Error).cause;
    const why = cause instanceof Error ? cause.message : (err as Error).message;
    return new LlmError(`cannot reach ${where}: ${why}`, { retryable: true, cause: err });
  }
  if (err instanceof sdk.APIError) {
    const { status, message } = err as { status?: number; message: string };
    const detail = serverMessage((err as { error?: unknown }).error) ?? message;
    if (status === undefined) {
      // An error event inside an already-started stream.
      return new LlmError(`${where} reported an error: ${detail}`, { retryable: false, cause: err });
    }
    return new LlmError(`${where} returned ${status}: ${detail}`, {
      status,
      retryable: isRetryableStatus(status),
      cause: err,
    });
  }
  // Anything else is the body breaking off midway (socket reset, "terminated", bad SSE JSON).
  const why = err instanceof Error ? err.message : String(err);
  return new LlmError(`stream from ${where} failed: ${why}`, { retryable: true, cause: err });
}

/**
 * The SDK's own message is prefixed with the status and may be a JSON dump; the server's message
 * reads better. OpenAI bodies: `{message}` (already unwrapped); Anthropic: `{error: {message}}`.
 */
function serverMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { message?: unknown; error?: { message?: unknown } };
  if (typeof b.message === 'string') return b.message;
  if (typeof b.error?.message === 'string') return b.error.message;
  return undefined;
}
