import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChunkWriter, nowMicros, pump, sendError, sendJson } from './chunks.js';
import { readBody, readChatRequest, type ChatRequest } from './request.js';
import { parseScript, splitWords, type ScriptedToolCall } from './script.js';
import { handleEmbeddings } from './embeddings.js';

export interface MockLlmOptions {
  /** @default 0 (an ephemeral port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

export interface MockLlmStats {
  /** Chat-completion requests received (other routes are not counted). */
  requests: number;
  /** Chat-completion responses still open; lets cancel tests see that an abort reached the server. */
  active: number;
}

export interface MockLlm {
  /** Base URL ending in `/v1`, ready for an OpenAI client's `baseURL`. */
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): MockLlmStats;
}

export const MODELS = ['mock-1', 'mock-slow'] as const;
/** Per-token delay of the `mock-slow` model for text replies. */
export const SLOW_MODEL_DELAY_MS = 20;

/** A text reply to stream: `count` tokens produced lazily (so `/ts` stamps the emit time). */
interface TextPlan {
  count: number;
  delayMs: number;
  token: (i: number) => string;
  /** Destroy the socket after the last token instead of finishing (`/fail_mid`). */
  breakAfter: boolean;
}

export async function startMockLlm(opts: MockLlmOptions = {}): Promise<MockLlm> {
  const counters: MockLlmStats = { requests: 0, active: 0 };
  let seq = 0;
  // noDelay: each token is one small write and must leave immediately, not wait for Nagle.
  const server = createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/v1/chat/completions' && req.method === 'POST') {
      counters.requests++;
      counters.active++;
      res.once('close', () => counters.active--);
      handleChat(req, res, ++seq).catch((err: unknown) => {
        if (!res.headersSent) sendError(res, 500, String(err), 'internal_error');
        else res.destroy();
      });
    } else if (path === '/v1/embeddings' && req.method === 'POST') {
      counters.requests++;
      handleEmbeddings(req, res).catch((err: unknown) => sendError(res, 500, String(err), 'internal_error'));
    } else if (path === '/v1/models' && req.method === 'GET') {
      const created = Math.floor(Date.now() / 1000);
      sendJson(res, 200, {
        object: 'list',
        data: MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'semibot-mock' })),
      });
    } else {
      sendError(res, 404, `no route for ${req.method} ${path}`, 'not_found');
    }
  });
  server.on('connection', (socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/v1`,
    port: addr.port,
    stats: () => ({ ...counters }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Open streams (e.g. /hang) would otherwise keep close() waiting forever.
        server.closeAllConnections();
      }),
  };
}

async function handleChat(req: IncomingMessage, res: ServerResponse, seq: number): Promise<void> {
  const raw = await readBody(req);
  if (raw === null) return sendError(res, 413, 'request body too large', 'body_too_large');
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return sendError(res, 400, 'request body is not valid JSON', 'invalid_json');
  }
  const chat = readChatRequest(body);
  if (typeof chat === 'string') return sendError(res, 400, chat, 'invalid_request');

  const script = parseScript(chat.lastUser);
  const textDelay = chat.model === 'mock-slow' ? SLOW_MODEL_DELAY_MS : 0;
  const words = (text: string): TextPlan => {
    const parts = splitWords(text);
    return { count: parts.length, delayMs: textDelay, token: (i) => parts[i]!, breakAfter: false };
  };
  const id = `chatcmpl-mock-${seq}`;
  switch (script.kind) {
    case 'echo':
      return replyText(res, chat, id, words(script.text));
    case 'slow':
    case 'fail_mid':
      return replyText(res, chat, id, {
        count: script.count,
        delayMs: script.kind === 'slow' ? script.delayMs : textDelay,
        token: (i) => `tok${i + 1} `,
        breakAfter: script.kind === 'fail_mid',
      });
    case 'ts':
      return replyText(res, chat, id, {
        count: script.count,
        delayMs: script.delayMs,
        token: () => `${nowMicros()} `,
        breakAfter: false,
      });
    case 'tools':
      // The follow-up call (tool results present) closes the loop with a text answer.
      if (chat.toolResult !== null) return replyText(res, chat, id, words(`Tool result: ${chat.toolResult}`));
      return replyTools(res, chat, id, seq, script.calls, textDelay);
    case 'fail':
      return sendError(res, script.status, `scripted failure with status ${script.status}`, `mock_${script.status}`);
    case 'invalid':
      return sendError(res, 400, script.message, 'invalid_script');
    case 'hang':
      if (chat.stream) new ChunkWriter(res, id, 0, chat.model).start();
      return; // the response stays open until the client (or close()) ends the connection
  }
}

function replyText(res: ServerResponse, chat: ChatRequest, id: string, plan: TextPlan): void {
  const created = Math.floor(Date.now() / 1000);
  if (!chat.stream) {
    // Non-streaming: wait as long as the stream would have taken, then answer at once.
    return later(res, plan.count * plan.delayMs, () => {
      if (plan.breakAfter) return void res.destroy();
      let content = '';
      for (let i = 0; i < plan.count; i++) content += plan.token(i);
      sendCompletion(res, chat, id, created, { role: 'assistant', content }, 'stop', plan.count);
    });
  }
  const w = new ChunkWriter(res, id, created, chat.model);
  w.start();
  pump(res, plan.count, plan.delayMs, (i) => w.text(plan.token(i)), () => {
    // Node batches writes of one tick until the next; destroying right away would drop the
    // tokens. The callback of a trailing SSE comment fires once everything before it is flushed.
    if (plan.breakAfter) res.write(':\n\n', () => res.destroy());
    else w.finish('stop', chat.includeUsage ? chat : null);
  });
}

function replyTools(
  res: ServerResponse,
  chat: ChatRequest,
  id: string,
  seq: number,
  calls: ScriptedToolCall[],
  delayMs: number,
): void {
  const created = Math.floor(Date.now() / 1000);
  const ids = calls.map((_, k) => `call_mock_${seq}_${k}`);
  if (!chat.stream) {
    const toolCalls = calls.map((c, k) => ({
      id: ids[k],
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }));
    return later(res, 0, () =>
      sendCompletion(res, chat, id, created, { role: 'assistant', content: null, tool_calls: toolCalls }, 'tool_calls', calls.length),
    );
  }
  // Each call: a header frame with id + name, then its arguments in at least two fragments so
  // clients are forced to accumulate by index, as with real providers.
  const deltas: string[] = [];
  calls.forEach((c, k) => {
    const role = k === 0 ? '"role":"assistant","content":null,' : '';
    deltas.push(
      `{${role}"tool_calls":[{"index":${k},"id":"${ids[k]}","type":"function","function":{"name":${JSON.stringify(c.name)},"arguments":""}}]}`,
    );
    for (const piece of fragments(c.arguments)) {
      deltas.push(`{"tool_calls":[{"index":${k},"function":{"arguments":${JSON.stringify(piece)}}}]}`);
    }
  });
  const w = new ChunkWriter(res, id, created, chat.model);
  w.start();
  pump(res, deltas.length, delayMs, (i) => w.delta(deltas[i]!), () =>
    w.finish('tool_calls', chat.includeUsage ? chat : null),
  );
}

function sendCompletion(
  res: ServerResponse,
  chat: ChatRequest,
  id: string,
  created: number,
  message: Record<string, unknown>,
  finishReason: string,
  completionTokens: number,
): void {
  sendJson(res, 200, {
    id,
    object: 'chat.completion',
    created,
    model: chat.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: {
      prompt_tokens: chat.promptTokens,
      completion_tokens: completionTokens,
      total_tokens: chat.promptTokens + completionTokens,
    },
  });
}

function later(res: ServerResponse, ms: number, fn: () => void): void {
  if (ms <= 0) return fn();
  const timer = setTimeout(fn, ms);
  res.once('close', () => clearTimeout(timer));
}

function fragments(s: string): string[] {
  const n = Math.max(2, Math.ceil(s.length / 16));
  const size = Math.max(1, Math.ceil(s.length / n));
  const out: string[] = [];
  for (let at = 0; at < s.length; at += size) out.push(s.slice(at, at + size));
  while (out.length < 2) out.push('');
  return out;
}
