import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, llmConfigFromEnv } from './config.js';
import { LlmError } from './errors.js';

describe('llmConfigFromEnv', () => {
  it('is null without a base URL', () => {
    expect(llmConfigFromEnv({})).toBeNull();
    expect(llmConfigFromEnv({ SEMIBOT_LLM_BASE_URL: '  ', SEMIBOT_LLM_MODEL: 'm' })).toBeNull();
  });

  it('reads the three variables, with defaults for key and model', () => {
    expect(
      llmConfigFromEnv({ SEMIBOT_LLM_BASE_URL: 'http://h:1/v1/', SEMIBOT_LLM_API_KEY: 'k', SEMIBOT_LLM_MODEL: 'm' }),
    ).toEqual({ baseUrl: 'http://h:1/v1', apiKey: 'k', model: 'm' });
    expect(llmConfigFromEnv({ SEMIBOT_LLM_BASE_URL: 'http://h/v1' })).toEqual({
      baseUrl: 'http://h/v1',
      apiKey: '',
      model: DEFAULT_MODEL,
    });
  });
});

describe('LlmError', () => {
  it('carries a stable code and works with instanceof', () => {
    const e = new LlmError('boom', { status: 502, retryable: true });
    expect(e).toBeInstanceOf(LlmError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'LlmError', code: 'LLM_ERROR', status: 502, retryable: true });
    expect(new Error('x')).not.toBeInstanceOf(LlmError);
  });
});
