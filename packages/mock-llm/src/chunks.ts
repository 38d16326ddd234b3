import type { ServerResponse } from 'node:http';

/**
 * Writes OpenAI `chat.completion.chunk` SSE frames. Benchmarks measure per-token latency through
 * this server, so each frame is built by string concatenation around a prefix computed once per
 * response and written with exactly one `res.write` (no per-token object graph, no stringify of
 * the envelope).
 */
export class ChunkWriter {
  private readonly head: string;
  private readonly envelope: string;
  /** Content / tool-call frames written so far: the mock's `completion_tokens`. */
  emitted = 0;

  constructor(
    private readonly res: ServerResponse,
    id: string,
    created: number,
    model: string,
  ) {
    this.envelope = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)}`;
    this.head = `data: ${this.envelope},"choices":[{"index":0,"delta":`;
  }

  start(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // Headers go out now so that clients see the response start even before the first token
    // (needed by /hang and by time-to-first-byte measurements).
    this.res.flushHeaders();
  }

  /** One content token; the first one also carries the assistant role, as OpenAI does. */
  text(token: string): void {
    const delta = this.emitted === 0 ? '{"role":"assistant","content":' : '{"content":';
    this.emitted++;
    this.res.write(`${this.head}${delta}${JSON.stringify(token)}},"finish_reason":null}]}\n\n`);
  }

  /** A raw delta object (already JSON), used for tool-call fragments. */
  delta(deltaJson: string): void {
    this.emitted++;
    this.res.write(`${this.head}${deltaJson},"finish_reason":null}]}\n\n`);
  }

  /** The closing frames: finish reason, optional usage frame, `[DONE]`, end of response. */
  finish(reason: 'stop' | 'tool_calls', usage: { promptTokens: number } | null): void {
    let out = `${this.head}{},"finish_reason":"${reason}"}]}\n\n`;
    if (usage) {
      const p = usage.promptTokens;
      const c = this.emitted;
      out += `data: ${this.envelope},"choices":[],"usage":{"prompt_tokens":${p},"completion_tokens":${c},"total_tokens":${p + c}}}\n\n`;
    }
    this.res.end(`${out}data: [DONE]\n\n`);
  }
}

/**
 * Calls `emit(i)` for i = 0..count-1, the i-th call at start + (i+1)*delayMs (the first token
 * waits one delay too, which models time-to-first-token). Deadlines are absolute so timer
 * jitter does not accumulate over long streams. Stops for good when the response closes,
 * which is how client aborts stop the timers.
 */
export function pump(
  res: ServerResponse,
  count: number,
  delayMs: number,
  emit: (i: number) => void,
  done: () => void,
): void {
  if (delayMs <= 0) {
    for (let i = 0; i < count && !res.destroyed; i++) emit(i);
    if (!res.destroyed) done();
    return;
  }
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  const start = performance.now();
  res.once('close', () => clearTimeout(timer));
  const tick = (): void => {
    if (res.destroyed) return;
    if (i >= count) return done();
    emit(i++);
    if (i >= count) return done();
    timer = setTimeout(tick, Math.max(0, start + (i + 1) * delayMs - performance.now()));
  };
  timer = setTimeout(tick, delayMs);
}

/** Wall-clock microseconds, comparable across processes on one host (used by `/ts`). */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  code: string,
  type = errorType(status),
): void {
  sendJson(res, status, { error: { message, type, code } });
}

function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}
