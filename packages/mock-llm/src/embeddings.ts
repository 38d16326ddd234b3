import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from './chunks.js';
import { readBody } from './request.js';

/** Dimensions of the mock embedding model's vectors. */
export const EMBEDDING_DIMS = 64;

/**
 * A deterministic bag-of-words embedding: each lower-cased word adds ±1 to a few hashed
 * dimensions, then the vector is normalised. Texts sharing words get high cosine similarity,
 * which is all tests and demos need from a model that cannot be downloaded here.
 */
export function mockEmbedding(text: string): number[] {
  const v = new Array<number>(EMBEDDING_DIMS).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = createHash('sha256').update(word).digest();
    for (let i = 0; i < 3; i++) v[h[i]! % EMBEDDING_DIMS]! += h[i + 3]! & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** POST /v1/embeddings, OpenAI's shape: `{model, input: string | string[]}`. */
export async function handleEmbeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  let body: { model?: unknown; input?: unknown };
  try {
    body = JSON.parse(raw ?? '');
  } catch {
    return sendError(res, 400, 'body is not valid JSON', 'invalid_request_error');
  }
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.some((i) => typeof i !== 'string')) {
    return sendError(res, 400, '`input` must be a string or a non-empty array of strings', 'invalid_request_error');
  }
  const words = inputs.reduce((n: number, s: string) => n + (s.match(/\S+/g)?.length ?? 0), 0);
  sendJson(res, 200, {
    object: 'list',
    model: typeof body.model === 'string' ? body.model : 'mock-embed',
    data: (inputs as string[]).map((text, index) => ({ object: 'embedding', index, embedding: mockEmbedding(text) })),
    usage: { prompt_tokens: words, total_tokens: words },
  });
}
