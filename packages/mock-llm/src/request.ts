import type { IncomingMessage } from 'node:http';
import { countWords } from './script.js';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** The parts of a chat-completion request the mock acts on. */
export interface ChatRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  promptTokens: number;
  lastUser: string;
  /** Content of the last `tool` message after the last user message, if any. */
  toolResult: string | null;
}

/** Validates just what the mock needs; returns an error message for a 400 otherwise. */
export function readChatRequest(body: unknown): ChatRequest | string {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.messages) || b.messages.length === 0) return '"messages" must be a non-empty array';
  let promptTokens = 0;
  let lastUser: string | null = null;
  let toolResult: string | null = null;
  for (const m of b.messages as unknown[]) {
    if (typeof m !== 'object' || m === null) return 'each message must be an object';
    const { role, content } = m as { role?: unknown; content?: unknown };
    const raw = contentText(content);
    promptTokens += countWords(raw);
    const text = role === 'user' ? withoutHarnessContext(raw) : raw;
    // a user message that is only a harness's injected context is not what the user typed
    if (role === 'user' && text.trim() === '' && raw.trim() !== '') continue;
    if (role === 'user') {
      lastUser = text;
      toolResult = null;
    } else if (role === 'tool') {
      toolResult = text;
    }
  }
  if (lastUser === null) return 'at least one message with role "user" is required';
  const so = b.stream_options as { include_usage?: unknown } | undefined;
  return {
    model: typeof b.model === 'string' && b.model ? b.model : 'mock-1',
    stream: b.stream === true,
    includeUsage: b.stream === true && so?.include_usage === true,
    promptTokens,
    lastUser,
    toolResult,
  };
}

/**
 * Agent harnesses add their own context to the conversation as user-role text: OpenClaw wraps it
 * in these markers, stamps what the user typed with `[Thu 2026-12-03 13:18 UTC] ` and may append a
 * `Runtime: agent=… | session=…` line. The script
 * is what the user typed, so both are left out of it.
 */
const HARNESS_CONTEXT = /<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>[\s\S]*?(<<<END_OPENCLAW_INTERNAL_CONTEXT>>>|$)/g;
const RUNTIME_LINE = /\n*Runtime: agent=[^\n]*$/;
const ENVELOPE_TIMESTAMP = /^\[[A-Z][a-z]{2} \d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?(?: [A-Za-z0-9+:/_-]+)?\] /;

export function withoutHarnessContext(text: string): string {
  const t = text.includes('<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>') ? text.replace(HARNESS_CONTEXT, '').trim() : text;
  return t.replace(ENVELOPE_TIMESTAMP, '').replace(RUNTIME_LINE, '');
}

/** Message content is a string, null, or an array of parts of which the text ones count. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
      out += (part as { text: string }).text;
    }
  }
  return out;
}

/** The body as text, or null when it exceeds the size limit. */
export function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
