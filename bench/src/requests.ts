import type { MessageCreateBody } from '@semibot/protocol';
import type { Bearer } from './api.js';
import type { RequestSpec } from './sse-client.js';

/** The HTTP requests the load client sends: the product's, and the baseline's straight to the mock. */

/** POST /sessions/:id/messages with Accept: text/event-stream: the run's SSE, `run` to `done`. */
export function productMessage(base: string, auth: Bearer, sessionId: string, content: string): RequestSpec {
  const body: MessageCreateBody = { content };
  return {
    url: `${base}/api/v1/sessions/${sessionId}/messages`,
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
  };
}

/**
 * The same model call the execution plane makes (system prompt + user message, streamed, with
 * usage), sent by the bench's client straight to the mock: what a client reading the model
 * directly would see.
 */
export function baselineChat(mockUrl: string, content: string): RequestSpec {
  return {
    url: `${mockUrl}/chat/completions`,
    method: 'POST',
    headers: { authorization: 'Bearer bench', 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({
      model: 'mock-1',
      messages: [
        { role: 'system', content: 'You are a benchmark agent.' },
        { role: 'user', content },
      ],
      stream: true,
      stream_options: { include_usage: true },
    }),
  };
}

/** GET /sessions/:id/events: a live connection that stays open. */
export function sessionEvents(base: string, auth: Bearer, sessionId: string): RequestSpec {
  return { url: `${base}/api/v1/sessions/${sessionId}/events`, method: 'GET', headers: { ...auth, accept: 'text/event-stream' } };
}
