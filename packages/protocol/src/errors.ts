/**
 * The closed set of error codes Semibot ever puts on the wire: HTTP error bodies, SSE `error` events,
 * WS `response` failures. Clients may switch on them; adding one is an API change.
 */
export const ErrorCodes = [
  // HTTP input
  'INVALID_JSON',
  'VALIDATION_ERROR',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'EMAIL_TAKEN',
  'INVALID_CREDENTIALS',
  'CONFLICT',
  'NOT_RUNNING',
  'INTERNAL_ERROR',
  'NOT_READY',
  // runs and execution planes
  'VM_UNAVAILABLE',
  'VM_START_FAILED',
  'VM_DISCONNECTED',
  'LLM_ERROR',
  'RUNTIME_ERROR',
  /** the plane's OpenClaw gateway died mid-turn (its sessions only; the next turn starts a new one) */
  'OPENCLAW_BRIDGE_EXITED',
  'RUN_INTERRUPTED',
  'UNKNOWN_SESSION',
  // websocket
  'AUTH_FAILED',
  'HEARTBEAT_TIMEOUT',
  'BAD_FRAME',
  'REPLACED',
  'PROTOCOL_MISMATCH',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** WebSocket close codes used on /ws/vm (4000-4999 are application-defined per RFC 6455). */
export const CloseCodes = {
  /** first frame was not a valid auth, or the token/ticket was refused */
  authFailed: 4001,
  /** no heartbeat within the timeout */
  heartbeatTimeout: 4008,
  /** a frame that is not JSON or does not match the protocol */
  badFrame: 4400,
  /** a newer connection for the same instance took over */
  replaced: 4409,
  /** the plane speaks another protocol version than the control plane (the reason says which) */
  protocolMismatch: 4426,
  /** the control plane is shutting down; reconnect elsewhere/later */
  goingAway: 1001,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; retryAfterMs?: number };
}

/** An expected failure with a stable code. Thrown in handlers, rendered by the HTTP error hook. */
export class SemibotError extends Error {
  override readonly name = 'SemibotError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status = 400,
    readonly extra: { details?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message);
  }

  /** Works across duplicate copies of this package, unlike a bare instanceof. */
  static is(err: unknown): err is SemibotError {
    return err instanceof Error && err.name === 'SemibotError' && 'code' in err;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
