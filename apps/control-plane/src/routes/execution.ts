import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SemibotError } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import { principal } from '../http/auth-hook.js';
import { getUserAndOrg } from '../store/users.js';

/**
 * The execution-mode monitor (seeds 002/003): its sliding-window metrics, the fallback state, and
 * a reset. Org admins only (the org's owner); an org's metrics are its own org's only.
 */
export const executionRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  const admin = async (req: Parameters<typeof principal>[0]) => {
    const p = principal(req);
    const me = await getUserAndOrg(ctx.db, p.userId, p.orgId);
    if (!me) throw new SemibotError('UNAUTHORIZED', 'account no longer exists', 401);
    if (me.user.role !== 'owner' && me.user.role !== 'admin') throw new SemibotError('FORBIDDEN', 'org admins only', 403);
    return p;
  };
  const monitor = ctx.execution.monitor;

  /** the platform-wide window (counts only, no tenant's data) */
  app.get('/runtime/metrics', async (req) => {
    await admin(req);
    return { defaultMode: ctx.config.execution.defaultMode, ...monitor.metrics() };
  });

  app.get('/runtime/metrics/:orgId', { schema: { params: z.object({ orgId: z.string() }) } }, async (req) => {
    const p = await admin(req);
    // another org's metrics do not exist for this caller
    if (req.params.orgId !== p.orgId) throw new SemibotError('NOT_FOUND', 'org not found', 404);
    return monitor.metrics(p.orgId);
  });

  app.get('/runtime/fallback/status', async (req) => {
    const p = await admin(req);
    const { global, org } = monitor.status(p.orgId);
    // the one that sends this org's runs direct: the platform's, else the org's own
    const effective = global.fallbackEnabled ? global : org;
    return { ...effective, global, org };
  });

  /** Back to the runtime path now: the org's window, and the platform's (a run of this org probes it) */
  app.post('/runtime/fallback/reset', async (req) => {
    const p = await admin(req);
    monitor.reset(p.orgId);
    monitor.reset(null);
    ctx.logger.warn({ orgId: p.orgId, userId: p.userId }, 'execution fallback reset by an org admin');
    const { global, org } = monitor.status(p.orgId);
    return { ...org, global, org };
  });
};
