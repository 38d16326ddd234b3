import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RunView } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import { principal } from '../http/auth-hook.js';
import { notFound, requireUuid } from '../http/errors.js';
import { getRun } from '../store/runs.js';

export const runAndVmRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  app.get('/runs/:id', { schema: { params: z.object({ id: z.string() }) } }, async (req): Promise<RunView> => {
    const run = await getRun(ctx.db, principal(req).orgId, requireUuid(req.params.id, 'run'));
    if (!run) throw notFound('run');
    return {
      id: run.id,
      sessionId: run.sessionId,
      messageId: run.messageId,
      status: run.status,
      attempt: run.attempt,
      error: run.error ?? undefined,
      usage: run.usage ?? undefined,
      executionMode: run.executionMode,
      fallbackReason: run.fallbackReason,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
    };
  });

  /** ?sessionId= / ?agentId=: resolve the settings chains for that session or agent */
  app.get('/vm/status', { schema: { querystring: z.object({ sessionId: z.string().optional(), agentId: z.string().optional() }).strict() } }, async (req) =>
    ctx.scheduler.status(principal(req), {
      sessionId: req.query.sessionId === undefined ? undefined : requireUuid(req.query.sessionId, 'session'),
      agentId: req.query.agentId === undefined ? undefined : requireUuid(req.query.agentId, 'agent'),
    }),
  );

  app.post('/vm/rebootstrap', async (req) => ctx.scheduler.rebootstrap(principal(req)));

  /** `semibot-runtime connect` on the user's own machine: credentials to dial in as the caller's plane. */
  app.post('/vm/connect', async (req, reply) => reply.status(201).send(await ctx.scheduler.grantLocal(principal(req))));
};
