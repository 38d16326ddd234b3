export type {
  LlmChunk,
  LlmMessage,
  LlmProvider,
  LlmStreamRequest,
  LlmToolCall,
  LlmToolSpec,
} from './types.js';
export { LlmError } from './errors.js';
export { llmConfigFromEnv, DEFAULT_MODEL, type LlmEnvConfig } from './config.js';
export { createOpenAICompatibleProvider, type OpenAICompatibleConfig } from './openai.js';
export { createAnthropicProvider, type AnthropicConfig } from './anthropic.js';
export { createOpenAICompatibleEmbedder, type Embedder, type EmbedderConfig } from './embeddings.js';
