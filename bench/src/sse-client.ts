import http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { SseEvent } from '@semibot/protocol';

/**
 * A deliberately small SSE reader on node:http (no fetch/undici, no parser library), so the client
 * adds as little as possible to what it measures. The same reader serves the product (Semibot SSE
 * frames) and the baseline (the mock's OpenAI `chat.completion.chunk` frames).
 */

/** Wall-clock µs, comparable with the mock's `/ts` token stamps (same formula in both processes). */
export const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

export type Dialect = 'semibot' | 'openai';

export interface RequestSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface StreamResult {
  status: number;
  /** raw response body bytes */
  bytes: number;
  textFrames: number;
  /** bytes of the text frames alone, separators included */
  textFrameBytes: number;
  /** per text frame: receive time − the µs stamp in the token (only with `stamped`) */
  latenciesUs: number[];
  /** per text frame: its receive time, wall-clock µs (only with `stamped`) */
  arrivalsUs: number[];
  /** request start → first text frame received */
  firstTextMs: number | null;
  /** request start → the run's first frame (`run`; Semibot only): the control plane's admission */
  runFrameMs: number | null;
  totalMs: number;
  /** the stream said it was finished (`done` / `[DONE]`) */
  done: boolean;
  error: string | null;
}

export interface StreamOptions {
  timeoutMs: number;
  /** tokens carry emit-time stamps (`/ts`): record per-token latency */
  stamped: boolean;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

export function stream(spec: RequestSpec, dialect: Dialect, o: StreamOptions): Promise<StreamResult> {
  const r: StreamResult = {
    status: 0, bytes: 0, textFrames: 0, textFrameBytes: 0, latenciesUs: [], arrivalsUs: [], firstTextMs: null, runFrameMs: null, totalMs: 0, done: false, error: null,
  };
  const started = performance.now();
  return new Promise((resolve) => {
    let finished = false;
    const finish = (error: string | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      r.totalMs = performance.now() - started;
      if (error && !r.error) r.error = error;
      resolve(r);
    };
    const req = http.request(spec.url, { method: spec.method, headers: spec.headers, agent }, (res) => {
      r.status = res.statusCode ?? 0;
      const decoder = new StringDecoder('utf8');
      let pending = '';
      let errorBody = '';
      res.on('data', (chunk: Buffer) => {
        const recvPerf = performance.now();
        const recvUs = (performance.timeOrigin + recvPerf) * 1000;
        r.bytes += chunk.length;
        if (r.status !== 200) {
          errorBody += chunk.toString();
          return;
        }
        pending += decoder.write(chunk);
        let at = 0;
        for (let end = pending.indexOf('\n\n', at); end !== -1; end = pending.indexOf('\n\n', at)) {
          const block = pending.slice(at, end);
          at = end + 2;
          const text = dialect === 'semibot' ? semibotFrame(block, r) : openaiFrame(block, r);
          if (r.runFrameMs === null && dialect === 'semibot' && block.includes('\nevent: run\n')) r.runFrameMs = recvPerf - started;
          if (text === null) continue;
          r.textFrames++;
          r.textFrameBytes += Buffer.byteLength(block) + 2;
          if (r.firstTextMs === null) r.firstTextMs = recvPerf - started;
          if (o.stamped) {
            r.latenciesUs.push(recvUs - Number(text));
            r.arrivalsUs.push(recvUs);
          }
        }
        pending = pending.slice(at);
      });
      res.on('end', () => finish(r.status === 200 ? null : `HTTP ${r.status}: ${errorBody.slice(0, 300)}`));
      res.on('error', (err) => finish(err.message));
    });
    const timer = setTimeout(() => {
      finish(`timed out after ${o.timeoutMs} ms`);
      req.destroy();
    }, o.timeoutMs);
    req.on('error', (err) => finish(err.message));
    req.end(spec.body);
  });
}

/** The text of a Semibot `text` frame, or null; notes `done` and `error` frames. */
function semibotFrame(block: string, r: StreamResult): string | null {
  if (block.startsWith(':')) return null; // comment (connected / heartbeat)
  const ev = /(?:^|\n)event: ([a-z_]+)/.exec(block)?.[1];
  if (ev !== 'text' && ev !== 'done' && ev !== 'error') return null;
  const data = block.slice(block.indexOf('data: ') + 6);
  const e = JSON.parse(data) as SseEvent;
  if (e.type === 'text') return e.text;
  if (e.type === 'done') {
    r.done = true;
    if (e.status !== 'completed') r.error ??= `run ended ${e.status}`;
  }
  if (e.type === 'error') r.error = `${e.code}: ${e.message}`;
  return null;
}

interface Chunk {
  choices?: { delta?: { content?: string | null } }[];
}

/** The content of an OpenAI chunk frame, or null; notes `[DONE]`. */
function openaiFrame(block: string, r: StreamResult): string | null {
  if (!block.startsWith('data: ')) return null;
  const data = block.slice(6);
  if (data === '[DONE]') {
    r.done = true;
    return null;
  }
  const content = (JSON.parse(data) as Chunk).choices?.[0]?.delta?.content;
  return typeof content === 'string' && content.length > 0 ? content : null;
}

/** An open stream that is only held (GET /events idle connections); resolves once it is flowing. */
export function hold(spec: RequestSpec, timeoutMs: number): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.request(spec.url, { method: spec.method, headers: spec.headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        res.resume();
        return reject(new Error(`HTTP ${res.statusCode} for ${spec.url}`));
      }
      res.once('data', () => {
        clearTimeout(timer);
        resolve({ close: () => req.destroy() });
      });
      res.on('data', () => {});
    });
    const timer = setTimeout(() => (req.destroy(), reject(new Error('held stream did not start'))), timeoutMs);
    req.on('error', (err) => (clearTimeout(timer), reject(err)));
    req.end(spec.body);
  });
}
