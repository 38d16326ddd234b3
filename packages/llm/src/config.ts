export interface LlmEnvConfig {
  baseUrl: string;
  apiKey: string;
  model: string;
}

/** Model used when SEMIBOT_LLM_MODEL is unset. */
export const DEFAULT_MODEL = 'gpt-4o-mini';

/**
 * Reads SEMIBOT_LLM_BASE_URL / SEMIBOT_LLM_API_KEY / SEMIBOT_LLM_MODEL. Returns null when no base
 * URL is set: the caller then starts the bundled mock model instead. The key may be empty, as
 * local servers (Ollama, vLLM) need none.
 */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmEnvConfig | null {
  const baseUrl = env.SEMIBOT_LLM_BASE_URL?.trim();
  if (!baseUrl) return null;
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKey: env.SEMIBOT_LLM_API_KEY?.trim() ?? '',
    model: env.SEMIBOT_LLM_MODEL?.trim() || DEFAULT_MODEL,
  };
}
