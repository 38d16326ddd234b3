import type { MemoryHit } from '@semibot/protocol';
import type { PlaneServices } from '../adapter.js';
import type { Tool } from './tool.js';

/** Long-term memory lives in the control plane; these tools write to it and search it. */
export function memoryTools(services: PlaneServices, agentId: string, sessionId: string): Tool[] {
  return [
    {
      kind: 'tool',
      spec: {
        name: 'memory_save',
        description: 'Save a fact to long-term memory, so later conversations (of this user) can find it.',
        parameters: {
          type: 'object',
          properties: { content: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
          required: ['content'],
        },
      },
      async execute(args, ctx) {
        if (typeof args.content !== 'string' || !args.content.trim()) return { content: 'content must be a non-empty string', isError: true };
        const tags = Array.isArray(args.tags) ? args.tags.filter((t): t is string => typeof t === 'string') : [];
        await services.request('memory_write', { sessionId: ctx.sessionId, agentId, content: args.content, tags });
        return { content: 'saved' };
      },
    },
    {
      kind: 'tool',
      spec: {
        name: 'memory_search',
        description: "Search this user's long-term memory. Returns the best matching saved facts.",
        parameters: {
          type: 'object',
          properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 20 } },
          required: ['query'],
        },
      },
      async execute(args) {
        if (typeof args.query !== 'string' || !args.query.trim()) return { content: 'query must be a non-empty string', isError: true };
        const { results } = await services.request<{ results: MemoryHit[] }>('memory_search', {
          query: args.query,
          limit: typeof args.limit === 'number' ? args.limit : 5,
          sessionId,
        });
        return {
          content: results.length ? results.map((r) => `- ${r.content}`).join('\n') : 'no memories match',
          display: results,
        };
      },
    },
  ];
}
