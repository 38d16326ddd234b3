import type OpenAI from 'openai';
import { sdkErrorToLlmError } from './sdk-errors.js';

export interface Embedder {
  readonly model: string;
  /** One vector per input, in order. Throws LlmError on failure. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

export interface EmbedderConfig {
  baseUrl: string;
  apiKey: string;
  model: string;
  /** @default 30_000 */
  timeoutMs?: number;
}

// The SDK loads on the first embedding: importing this package (the execution plane does) must
// not load it.
let sdk: Promise<typeof import('openai')> | null = null;
const loadSdk = () => (sdk ??= import('openai'));

/** Embeddings from any OpenAI-compatible `/embeddings` endpoint. */
export function createOpenAICompatibleEmbedder(cfg: EmbedderConfig): Embedder {
  let client: OpenAI | null = null;
  return {
    model: cfg.model,
    async embed(texts, signal) {
      const m = await loadSdk();
      client ??= new m.default({ baseURL: cfg.baseUrl, apiKey: cfg.apiKey || 'unused', timeout: cfg.timeoutMs ?? 30_000, maxRetries: 2 });
      try {
        const res = await client.embeddings.create({ model: cfg.model, input: texts, encoding_format: 'float' }, signal ? { signal } : undefined);
        return [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      } catch (err) {
        throw sdkErrorToLlmError(err, 'embeddings', m);
      }
    },
  };
}
