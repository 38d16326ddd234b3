import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { LoginBody, MePatchBody, OrgPatchBody, RegisterBody, SemibotError } from '@semibot/protocol';
import { isUniqueViolation } from '../db/db.js';
import type { AppContext } from '../context.js';
import { decoyHash, hashPassword, verifyPassword } from '../auth/passwords.js';
import { newApiKey } from '../auth/tokens.js';
import { principal } from '../http/auth-hook.js';
import { createUserWithOrg, findUserForLogin, getUserAndOrg, insertApiKey, patchOrg, patchUserSettings } from '../store/users.js';

export const publicAuthPaths = ['/api/v1/auth/register', '/api/v1/auth/login'];

export const authRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  app.post('/auth/register', { schema: { body: RegisterBody } }, async (req, reply) => {
    const passwordHash = await hashPassword(req.body.password);
    try {
      const { user, org } = await ctx.db.tx((q) =>
        createUserWithOrg(q, { email: req.body.email, passwordHash, name: req.body.name ?? null }),
      );
      const token = await ctx.tokens.signUser({ userId: user.id, orgId: org.id });
      return reply.status(201).send({ token, user, org });
    } catch (err) {
      if (isUniqueViolation(err)) throw new SemibotError('EMAIL_TAKEN', 'an account with this email already exists', 409);
      throw err;
    }
  });

  app.post('/auth/login', { schema: { body: LoginBody } }, async (req) => {
    const found = await findUserForLogin(ctx.db, req.body.email);
    const ok = await verifyPassword(found?.passwordHash ?? (await decoyHash()), req.body.password);
    if (!found || !ok) throw new SemibotError('INVALID_CREDENTIALS', 'wrong email or password', 401);
    const me = await getUserAndOrg(ctx.db, found.user.id, found.user.orgId);
    const token = await ctx.tokens.signUser({ userId: found.user.id, orgId: found.user.orgId });
    return { token, user: found.user, org: me!.org };
  });

  app.get('/auth/me', async (req) => {
    const p = principal(req);
    const me = await getUserAndOrg(ctx.db, p.userId, p.orgId);
    if (!me) throw new SemibotError('UNAUTHORIZED', 'account no longer exists', 401);
    return me;
  });

  app.get('/org', async (req) => {
    const p = principal(req);
    const me = await getUserAndOrg(ctx.db, p.userId, p.orgId);
    if (!me) throw new SemibotError('UNAUTHORIZED', 'account no longer exists', 401);
    return me.org;
  });

  /** Dedicated planes or the shared pool, for every user of the org; its owner decides. */
  app.patch('/org', { schema: { body: OrgPatchBody } }, async (req) => {
    const p = principal(req);
    const me = await getUserAndOrg(ctx.db, p.userId, p.orgId);
    if (!me) throw new SemibotError('UNAUTHORIZED', 'account no longer exists', 401);
    if (me.user.role !== 'owner') throw new SemibotError('FORBIDDEN', "only the org's owner can change its settings", 403);
    const org = await patchOrg(ctx.db, p.orgId, req.body);
    ctx.scheduler.forgetPlacement(p.orgId);
    return org;
  });

  /**
   * The caller's own links of the settings chains: where their plane runs (from their next plane
   * on) and the runtime their sessions use when neither the session nor its agent names one.
   */
  app.patch('/auth/me', { schema: { body: MePatchBody } }, async (req) => {
    const p = principal(req);
    const user = await patchUserSettings(ctx.db, p.userId, p.orgId, req.body);
    if (!user) throw new SemibotError('UNAUTHORIZED', 'account no longer exists', 401);
    return user;
  });

  app.post('/api-keys', { schema: { body: z.object({ name: z.string().min(1).max(200) }) } }, async (req, reply) => {
    const p = principal(req);
    const { key, hash, prefix } = newApiKey();
    const row = await insertApiKey(ctx.db, { orgId: p.orgId, userId: p.userId, name: req.body.name, keyHash: hash, prefix });
    // The key is shown once; only its hash is kept.
    return reply.status(201).send({ ...row, key });
  });
};
