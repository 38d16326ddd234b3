import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import { WebSocket } from 'ws';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const controlPlaneMain = path.join(root, 'apps/control-plane/dist/main.js');

export interface SseFrame {
  id: number | null;
  event: string;
  data: Record<string, unknown> & { type: string; runId: string | null };
}

export interface Platform {
  url: string;
  home: string;
  logs: string[];
  child: ChildProcess;
  api<T = any>(method: string, path: string, opts?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<{ status: number; body: T; headers: Headers }>;
  /** registers a fresh user (own org); returns its token and ids */
  user(): Promise<{ token: string; userId: string; orgId: string }>;
  /** a user with an agent and a session, ready to chat */
  chat(systemPrompt?: string): Promise<{ token: string; agentId: string; sessionId: string }>;
  /** stops the control plane (SIGTERM, or the given signal) and waits for it to exit */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** stops this control plane (SIGTERM, or the given signal) and starts a new one on the same home, port and database */
  restart(signal?: NodeJS.Signals): Promise<Platform>;
}

let seq = 0;

/** Starts the real control plane as a child process (which starts planes and the mock model itself). */
export async function startPlatform(opts: { env?: Record<string, string>; home?: string; port?: number } = {}): Promise<Platform> {
  const home = opts.home ?? mkdtempSync(path.join(tmpdir(), 'semibot-e2e-'));
  const logs: string[] = [];
  const child = spawn(process.execPath, [controlPlaneMain], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SEMIBOT_HOME: home,
      PORT: String(opts.port ?? 0),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SSE_HEARTBEAT_MS: '1000',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`control plane did not start:\n${logs.join('')}`)), 30_000);
    const onData = (chunk: Buffer) => {
      logs.push(chunk.toString());
      const m = /control plane ready on (http:\/\/[\d.:]+)/.exec(chunk.toString());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`control plane exited with ${code}:\n${logs.join('')}`));
    });
  });
  const port = Number(new URL(url).port);

  const api = apiAt(url);

  const platform: Platform = {
    url,
    home,
    logs,
    child,
    api,
    async user() {
      const email = `user${process.pid}-${Date.now()}-${seq++}@example.com`;
      const r = await api('POST', '/auth/register', { body: { email, password: 'correct horse battery' } });
      if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
      return { token: r.body.token, userId: r.body.user.id, orgId: r.body.org.id };
    },
    async chat(systemPrompt = 'You are a test agent.') {
      const { token } = await platform.user();
      const agent = await api('POST', '/agents', { token, body: { name: 'test agent', systemPrompt } });
      const session = await api('POST', '/sessions', { token, body: { agentId: agent.body.id } });
      return { token, agentId: agent.body.id, sessionId: session.body.id };
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    async restart(signal: NodeJS.Signals = 'SIGTERM') {
      await platform.stop(signal);
      return startPlatform({ ...opts, home, port });
    },
  };
  return platform;
}

/** The JSON API under /api/v1 of whatever answers at `url` (a control plane, or a balancer in front of several). */
export function apiAt(url: string): Platform['api'] {
  return async (method, p, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined = o.rawBody;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    if (o.rawBody !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${url}/api/v1${p}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
}

/** Processes the control plane started itself: its `process`-mode planes (the mock model runs in-process). */
export function childPlanes(p: Platform): string[] {
  try {
    return execFileSync('pgrep', ['-P', String(p.child.pid)]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

/** A pool plane's credential, minted by the operator's command (`semibot-pool-token`) as an operator would. */
export function mintPoolToken(pool: string, jwtSecret: string, home: string): string {
  const cli = path.join(root, 'apps/control-plane/dist/pool-token.js');
  return execFileSync(process.execPath, [cli, '--pool', pool], { env: { PATH: process.env.PATH, JWT_SECRET: jwtSecret, SEMIBOT_HOME: home } }).toString().trim();
}

export function cleanupHome(p: Platform): void {
  rmSync(p.home, { recursive: true, force: true });
}

/**
 * Reads an SSE response as frames. `until` ends reading (and aborts the request) when it returns
 * true for a frame; the stream ending by itself also ends it.
 */
export async function readSse(
  res: Response,
  opts: { until?: (f: SseFrame) => boolean; onFrame?: (f: SseFrame) => void; timeoutMs?: number; abort?: AbortController } = {},
): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  if (!res.body) throw new Error(`no body (status ${res.status})`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let stop = false;
  const parser = createParser({
    onEvent(ev) {
      if (stop) return;
      const f: SseFrame = { id: ev.id ? Number(ev.id) : null, event: ev.event ?? 'message', data: JSON.parse(ev.data) };
      frames.push(f);
      opts.onFrame?.(f);
      if (opts.until?.(f)) stop = true;
    },
  });
  const timer = setTimeout(() => {
    stop = true;
    void reader.cancel();
  }, opts.timeoutMs ?? 30_000);
  try {
    while (!stop) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    clearTimeout(timer);
    opts.abort?.abort();
    await reader.cancel().catch(() => {});
  }
  return frames;
}

/** POSTs a message with Accept: text/event-stream and reads the run's stream to `done`. */
export async function sendAndStream(
  p: Platform,
  token: string,
  sessionId: string,
  content: string,
  extra: Record<string, unknown> = {},
  opts: { timeoutMs?: number } = {},
) {
  const res = await fetch(`${p.url}/api/v1/sessions/${sessionId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ content, ...extra }),
  });
  if (res.status !== 200) throw new Error(`stream POST failed: ${res.status} ${await res.text()}`);
  return readSse(res, { until: (f) => f.event === 'done', ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
}

/** Opens GET /sessions/:id/events, optionally resuming after an id. */
export async function openEvents(p: Platform, token: string, sessionId: string, lastEventId?: number, signal?: AbortSignal) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
  return fetch(`${p.url}/api/v1/sessions/${sessionId}/events`, { headers, signal: signal ?? null });
}

export const textOf = (frames: SseFrame[]) =>
  frames.filter((f) => f.event === 'text').map((f) => f.data.text as string).join('');

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** POSTs a message on the 202 path (no SSE). */
export async function post(p: Platform, token: string, sessionId: string, content: string, extra: Record<string, unknown> = {}) {
  return p.api<{ runId: string; messageId: string; duplicate: boolean }>('POST', `/sessions/${sessionId}/messages`, {
    token,
    body: { content, ...extra },
  });
}

/** POSTs a message with Accept: text/event-stream; returns the raw response (read it with readSse or follow). */
export function postStream(p: Platform, token: string, sessionId: string, content: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) {
  return fetch(`${p.url}/api/v1/sessions/${sessionId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ content, ...extra }),
    signal: signal ?? null,
  });
}

/** GET /sessions/:id/events with the resume id in the header, in the query, or neither. */
export function openEventsWith(p: Platform, token: string, sessionId: string, resume: { header?: string | number; query?: string | number } = {}, signal?: AbortSignal) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
  if (resume.header !== undefined) headers['last-event-id'] = String(resume.header);
  const q = resume.query !== undefined ? `?lastEventId=${encodeURIComponent(String(resume.query))}` : '';
  return fetch(`${p.url}/api/v1/sessions/${sessionId}/events${q}`, { headers, signal: signal ?? null });
}

/** An SSE stream read in the background: frames so far, waiting for a frame, closing. */
export interface Follower {
  readonly frames: SseFrame[];
  /** resolves with the first frame (already seen or future) matching `pred` */
  next(pred: (f: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  /** settles when the stream ends (by itself, by `stopWhen`, by close(), by the timeout, or the connection dropping) */
  readonly finished: Promise<SseFrame[]>;
  close(): void;
}

export async function follow(open: (signal: AbortSignal) => Promise<Response>, opts: { stopWhen?: (f: SseFrame) => boolean; timeoutMs?: number } = {}): Promise<Follower> {
  const abort = new AbortController();
  const res = await open(abort.signal);
  if (res.status !== 200) throw new Error(`stream failed: ${res.status} ${await res.text()}`);
  const frames: SseFrame[] = [];
  const waiters = new Set<{ pred: (f: SseFrame) => boolean; resolve: (f: SseFrame) => void }>();
  let ended = false;
  const finished = readSse(res, {
    abort,
    timeoutMs: opts.timeoutMs ?? 60_000,
    ...(opts.stopWhen ? { until: opts.stopWhen } : {}),
    onFrame(f) {
      frames.push(f);
      for (const w of waiters) if (w.pred(f)) (waiters.delete(w), w.resolve(f));
    },
  })
    // a connection that drops (e.g. the server was killed) ends the stream: what arrived is the result
    .catch(() => frames)
    .finally(() => {
      ended = true;
    });
  return {
    frames,
    finished,
    next(pred, timeoutMs = 30_000) {
      const seen = frames.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (f: SseFrame) => (clearTimeout(t), resolve(f)) };
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching frame within ${timeoutMs} ms (ended: ${ended}); got ${frames.map((f) => f.event).join(',')}`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    close: () => abort.abort(),
  };
}

/** Polls GET /runs/:id until its status is one of `statuses` (default: any final one). */
export async function waitRun(p: Platform, token: string, runId: string, statuses: string[] = ['completed', 'failed', 'cancelled'], timeoutMs = 30_000) {
  return waitFor(async () => {
    const r = await p.api('GET', `/runs/${runId}`, { token });
    return r.status === 200 && statuses.includes(r.body.status) ? r.body : null;
  }, timeoutMs);
}

export const ids = (frames: SseFrame[]) => frames.map((f) => f.id);

/** Asserts-free check used by tests: ids are numbers and strictly increasing. */
export function strictlyIncreasing(frames: SseFrame[]): boolean {
  return frames.every((f, i) => typeof f.id === 'number' && (i === 0 || f.id > frames[i - 1]!.id!));
}

export interface WsOutcome {
  code: number;
  reason: string;
  /** ms from open to close */
  ms: number;
  /** set when the upgrade itself was refused */
  refusedStatus?: number;
}

/**
 * Opens a WebSocket to the control plane (default /ws/vm; `url`: any other, e.g. its plane socket's
 * `ws+unix:`), lets `act` send whatever it wants once open, and resolves with how the server ended it.
 */
export function wsSession(p: Platform, act: (ws: WebSocket) => void = () => {}, opts: { path?: string; url?: string; timeoutMs?: number } = {}): Promise<WsOutcome> {
  const url = opts.url ?? `${p.url.replace(/^http/, 'ws')}${opts.path ?? '/ws/vm'}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let openedAt = Date.now();
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`websocket to ${url} still open after ${opts.timeoutMs ?? 15_000} ms`));
    }, opts.timeoutMs ?? 15_000);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      resolve({ code: -1, reason: '', ms: 0, refusedStatus: res.statusCode ?? 0 });
    });
    ws.on('open', () => {
      openedAt = Date.now();
      act(ws);
    });
    ws.on('error', () => {}); // the close event reports the outcome
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), ms: Date.now() - openedAt });
    });
  });
}

/** The text of `/slow N D`: tok1 … tokN, each followed by a space. */
export const slowText = (n: number) => Array.from({ length: n }, (_, i) => `tok${i + 1} `).join('');

/** A run's text as a client must build it: on `step_restart` keep the first textLength characters. */
export function clientText(frames: SseFrame[], runId?: string): string {
  let text = '';
  for (const f of frames) {
    if (runId && f.data.runId !== runId) continue;
    if (f.event === 'text') text += f.data.text as string;
    if (f.event === 'step_restart') text = text.slice(0, f.data.textLength as number);
  }
  return text;
}
