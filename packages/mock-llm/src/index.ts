export { startMockLlm, MODELS, SLOW_MODEL_DELAY_MS } from './server.js';
export type { MockLlm, MockLlmOptions, MockLlmStats } from './server.js';
export { parseScript, splitWords, countWords, MAX_TOKENS } from './script.js';
export type { Script, ScriptedToolCall } from './script.js';
export { mockEmbedding, EMBEDDING_DIMS } from './embeddings.js';
