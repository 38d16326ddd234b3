import http from 'node:http';
import https from 'node:https';
import { createParser } from 'eventsource-parser';
import { LlmError, isRetryableStatus } from './errors.js';

/**
 * POST a JSON body, get a streamed response: the transport of the OpenAI-compatible provider.
 * node:http with keep-alive agents (a turn's model calls reuse one connection); server-sent
 * events are parsed by eventsource-parser.
 */

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/** Backoff before retry n (0-based): 0.5 s doubling to 8 s, minus up to 25 % jitter. */
const backoffMs = (n: number) => Math.min(500 * 2 ** n, 8_000) * (1 - Math.random() * 0.25);
/** A server's Retry-After beyond this is not waited for: the error goes to the caller instead. */
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Where requests go, parsed once per provider rather than from a URL on every request. */
export interface HttpTarget {
  readonly transport: typeof http | typeof https;
  readonly options: Readonly<http.RequestOptions>;
}

export function httpTarget(url: URL): HttpTarget {
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') throw new LlmError(`unsupported protocol ${url.protocol} in ${url.origin}`, { retryable: false });
  return {
    transport: secure ? https : http,
    options: {
      protocol: url.protocol,
      // a bracketed IPv6 literal is connected to without its brackets
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      agent: agents[url.protocol as keyof typeof agents],
      ...(url.username || url.password ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
    },
  };
}

/**
 * How a call is cancelled (IdleWatchdog): one callback, told the reason, that the transport points
 * at whatever is in flight — the request, or the wait before a retry.
 */
export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: unknown;
  onAbort(fn: ((reason: unknown) => void) | null): void;
}

export interface PostOptions {
  cancel: Cancellation;
  /** wait for the response headers at most this long (each attempt) */
  timeoutMs: number;
  maxRetries: number;
  /** names the server in error messages */
  where: string;
}

/**
 * Sends the request and resolves with the 2xx response, its body not yet read; a cancel from then
 * on destroys the response. Connection failures, timeouts and 408/409/429/5xx are retried up to
 * `maxRetries` times; what is left is thrown as an LlmError (an abort is thrown as is: the caller
 * knows it aborted).
 */
export async function postJson(target: HttpTarget, headers: Record<string, string>, body: string, o: PostOptions): Promise<http.IncomingMessage> {
  for (let attempt = 0; ; attempt++) {
    let failure: LlmError;
    let waitMs: number | null = null;
    try {
      const res = await send(target, headers, body, o);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return res;
      const detail = errorDetail(await readCapped(res)) ?? res.statusMessage ?? 'no reason given';
      failure = new LlmError(`${o.where} returned ${status}: ${detail}`, { status, retryable: isRetryableStatus(status) });
      waitMs = retryAfterMs(res.headers);
    } catch (err) {
      if (o.cancel.aborted) throw err;
      failure = err instanceof LlmError ? err : new LlmError(`cannot reach ${o.where}: ${(err as Error).message}`, { retryable: true, cause: err });
    }
    if (!failure.retryable || attempt >= o.maxRetries || (waitMs !== null && waitMs > MAX_RETRY_AFTER_MS)) throw failure;
    await pause(waitMs ?? backoffMs(attempt), o.cancel);
  }
}

function send(target: HttpTarget, headers: Record<string, string>, body: string, o: PostOptions): Promise<http.IncomingMessage> {
  if (o.cancel.aborted) return Promise.reject(abortError(o.cancel.reason));
  const req = target.transport.request({
    ...target.options,
    headers: {
      ...headers,
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'content-length': Buffer.byteLength(body),
    },
  });
  o.cancel.onAbort((reason) => req.destroy(abortError(reason)));
  const response = responseOf(req, o);
  req.end(body);
  return response;
}

/** The wait before a retry, cut short by a cancel. */
function pause(ms: number, cancel: Cancellation): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel.onAbort(null);
      resolve();
    }, ms);
    cancel.onAbort((reason) => {
      clearTimeout(timer);
      reject(abortError(reason));
    });
  });
}

/** What an aborted request fails with, as Node's own `signal` option would make it. */
function abortError(reason: unknown): Error {
  return Object.assign(new Error('The operation was aborted', { cause: reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * The request's response, or its error. Apart from `send` so that no listener's scope holds the
 * body: the error listener lives as long as the request, and a closure over `body` kept the whole
 * conversation's JSON alive for the seconds the stream lasts (a heap snapshot of 50 streams with a
 * 48 KB history: 50 request bodies retained through the listener's context).
 */
function responseOf(req: http.ClientRequest, o: PostOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => req.destroy(new LlmError(`request to ${o.where} timed out`, { retryable: true })), o.timeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      o.cancel.onAbort(() => res.destroy());
      resolve(res);
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * The `data` of each server-sent event, as they arrive; `onData` is told of every network chunk
 * (the idle watchdog). Leaving the loop early destroys the response, which frees the server.
 */
export async function* readSse(res: http.IncomingMessage, onData: () => void): AsyncGenerator<string, void, undefined> {
  const events: string[] = [];
  const parser = createParser({ onEvent: (e) => void events.push(e.data) });
  res.setEncoding('utf8');
  try {
    for await (const piece of res as AsyncIterable<string>) {
      onData();
      parser.feed(piece);
      // one await per network chunk, not per event: a chunk often carries many tokens
      for (let i = 0; i < events.length; i++) yield events[i]!;
      events.length = 0;
    }
  } finally {
    if (!res.complete) res.destroy();
  }
}

/**
 * The same, pushed: `onEvent` is called with each event's `data` inside the socket's read callback
 * (no promise per chunk or per event); resolves when the response has ended, rejects with what
 * `onEvent` threw or with what broke the response. The relay's path: between the model's chunk and
 * the frame to the control plane nothing waits for a microtask.
 */
export function pumpSse(res: http.IncomingMessage, onEvent: (data: string) => void, onData: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const parser = createParser({ onEvent: (e) => onEvent(e.data) });
    res.setEncoding('utf8');
    res.on('data', (piece: string) => {
      onData();
      try {
        parser.feed(piece);
      } catch (err) {
        reject(err);
        res.destroy();
      }
    });
    res.once('end', resolve);
    res.once('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error('the response was cut off'));
    });
  });
}

/** What broke a started stream, as an LlmError (socket reset, truncated body, bad JSON...). */
export function streamFailure(err: unknown, where: string): LlmError {
  if (err instanceof LlmError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new LlmError(`stream from ${where} failed: ${why}`, { retryable: true, cause: err });
}

async function readCapped(res: http.IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const piece of res as AsyncIterable<string>) {
    if (text.length < MAX_ERROR_BODY_BYTES) text += piece;
  }
  return text.slice(0, MAX_ERROR_BODY_BYTES);
}

/** OpenAI-style error bodies: `{error: {message}}`, sometimes `{message}` or plain text. */
function errorDetail(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } | string };
    if (typeof body.error === 'string') return body.error;
    if (typeof body.error?.message === 'string') return body.error.message;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500) || undefined;
}

/** `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
function retryAfterMs(h: http.IncomingHttpHeaders): number | null {
  const ms = Number(h['retry-after-ms']);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = h['retry-after'];
  if (!raw) return null;
  const s = Number(raw);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
