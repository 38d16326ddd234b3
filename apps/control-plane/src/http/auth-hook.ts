import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SemibotError } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import { API_KEY_PREFIX, sha256, type Principal } from '../auth/tokens.js';
import { findApiKey } from '../store/users.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const unauthorized = (why: string) => new SemibotError('UNAUTHORIZED', why, 401);

/** `Authorization: Bearer <JWT | sbk_ API key>` on every route that does not opt out. */
export function installAuth(app: FastifyInstance, ctx: AppContext, publicPaths: Set<string>): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    // /v1/: the OpenAI-compatible endpoint (openai/completions.ts)
    if (!(path.startsWith('/api/') || path.startsWith('/v1/')) || publicPaths.has(path)) return;
    req.principal = await authenticate(req, ctx);
  });
}

async function authenticate(req: FastifyRequest, ctx: AppContext): Promise<Principal> {
  const header = req.headers.authorization;
  if (!header) throw unauthorized('missing Authorization: Bearer <token>');
  const [scheme, token] = header.split(' ');
  if (scheme?.toLowerCase() !== 'bearer' || !token) throw unauthorized('expected Authorization: Bearer <token>');
  if (token.startsWith(API_KEY_PREFIX)) {
    const key = await findApiKey(ctx.db, sha256(token));
    if (!key) throw unauthorized('unknown or revoked API key');
    return key;
  }
  const p = await ctx.tokens.verifyUser(token);
  if (!p) throw unauthorized('invalid or expired token');
  return p;
}

/** The caller; only called on authenticated routes. */
export function principal(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized('not authenticated');
  return req.principal;
}
