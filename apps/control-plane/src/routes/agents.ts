import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AgentCreateBody, AgentPatchBody } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import { principal } from '../http/auth-hook.js';
import { notFound, requireUuid } from '../http/errors.js';
import { createAgent, deleteAgent, getAgent, listAgents, patchAgent } from '../store/agents.js';

const IdParams = z.object({ id: z.string() });

export const agentRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  app.post('/agents', { schema: { body: AgentCreateBody } }, async (req, reply) => {
    const p = principal(req);
    return reply.status(201).send(await createAgent(ctx.db, p.orgId, p.userId, req.body));
  });

  app.get('/agents', async (req) => ({ data: await listAgents(ctx.db, principal(req).orgId) }));

  app.get('/agents/:id', { schema: { params: IdParams } }, async (req) => {
    const agent = await getAgent(ctx.db, principal(req).orgId, requireUuid(req.params.id, 'agent'));
    if (!agent) throw notFound('agent');
    return agent;
  });

  app.patch('/agents/:id', { schema: { params: IdParams, body: AgentPatchBody } }, async (req) => {
    const agent = await patchAgent(ctx.db, principal(req).orgId, requireUuid(req.params.id, 'agent'), req.body);
    if (!agent) throw notFound('agent');
    return agent;
  });

  app.delete('/agents/:id', { schema: { params: IdParams } }, async (req, reply) => {
    if (!(await deleteAgent(ctx.db, principal(req).orgId, requireUuid(req.params.id, 'agent')))) throw notFound('agent');
    return reply.status(204).send();
  });
};
