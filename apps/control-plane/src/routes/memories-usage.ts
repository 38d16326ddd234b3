import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { principal } from '../http/auth-hook.js';
import { requireUuid } from '../http/errors.js';
import { listMemories } from '../store/memories.js';
import { listAudit } from '../store/snapshots-audit.js';
import { usageSummary } from '../store/usage.js';

const optionalUuid = (v: string | undefined, what: string) => (v ? requireUuid(v, what) : undefined);

/** Long-term memory, usage and audit for the caller's org (memory: the caller's own). */
export const memoryUsageRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  app.get('/memories', { schema: { querystring: z.object({ agentId: z.string().optional() }) } }, async (req) => {
    const p = principal(req);
    return { data: await listMemories(ctx.db, p.orgId, p.userId, optionalUuid(req.query.agentId, 'agent')) };
  });

  app.post(
    '/memories',
    { schema: { body: z.object({ content: z.string().min(1).max(20_000), agentId: z.string().optional(), tags: z.array(z.string().max(100)).max(20).default([]) }) } },
    async (req, reply) => {
      const p = principal(req);
      const memory = await ctx.memory.save({
        orgId: p.orgId,
        userId: p.userId,
        agentId: optionalUuid(req.body.agentId, 'agent') ?? null,
        sessionId: null,
        content: req.body.content,
        tags: req.body.tags,
      });
      return reply.status(201).send(memory);
    },
  );

  app.post(
    '/memories/search',
    { schema: { body: z.object({ query: z.string().min(1).max(2000), agentId: z.string().optional(), limit: z.number().int().min(1).max(50).default(10) }) } },
    async (req) => {
      const p = principal(req);
      const agentId = optionalUuid(req.body.agentId, 'agent');
      return { data: await ctx.memory.search({ orgId: p.orgId, userId: p.userId, agentId, query: req.body.query, limit: req.body.limit }) };
    },
  );

  app.get(
    '/usage',
    {
      schema: {
        querystring: z.object({
          from: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
          to: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
          groupBy: z.enum(['day', 'model', 'agent']).default('day'),
        }),
      },
    },
    async (req) => {
      const to = req.query.to ? new Date(req.query.to) : new Date();
      const from = req.query.from ? new Date(req.query.from) : new Date(to.getTime() - 30 * 86_400_000);
      await ctx.usage.flush(); // records reported a moment ago are still being batched
      return { from: from.toISOString(), to: to.toISOString(), groupBy: req.query.groupBy, data: await usageSummary(ctx.db, principal(req).orgId, from, to, req.query.groupBy) };
    },
  );

  app.get(
    '/audit',
    { schema: { querystring: z.object({ runId: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }) } },
    async (req) => ({ data: await listAudit(ctx.db, principal(req).orgId, { limit: req.query.limit, runId: optionalUuid(req.query.runId, 'run') }) }),
  );
};
