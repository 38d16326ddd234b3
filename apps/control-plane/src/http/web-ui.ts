import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Paths that belong to the API and operations: never answered with the web UI, even for a browser. */
const RESERVED = /^\/(api|ws|docs|openapi\.json|healthz|readyz|metrics)(\/|$|\?)/;

/**
 * apps/web/dist relative to this file (dist/http/web-ui.js in an installed checkout), unless
 * SEMIBOT_WEB_DIST points elsewhere (a container image that copies the build somewhere else).
 */
export function webDistDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SEMIBOT_WEB_DIST ? path.resolve(env.SEMIBOT_WEB_DIST) : fileURLToPath(new URL('../../../web/dist/', import.meta.url));
}

const wantsHtml = (req: FastifyRequest) => req.method === 'GET' && (req.headers.accept ?? '').includes('text/html') && !RESERVED.test(req.url);

const missingPage = (dir: string) => `<!doctype html><meta charset="utf-8"><title>Semibot</title>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>Semibot is running</h1><p>The web console has not been built, so there is nothing to show here yet.
Build it with <code>npm run build</code> (or <code>npm run build -w apps/web</code>) and reload.</p>
<p>Looked in <code>${dir.replace(/[<&>]/g, '')}</code>. The API is at <a href="/docs">/docs</a>.</p></body>`;

/**
 * Serves the built web console at `/`: its files as they are, and index.html for any other GET that
 * a browser makes for a page (client-side routes such as /chat/…), so deep links and reloads work.
 * API paths keep their JSON 404. Registered in its own scope so its reply decorators stay local.
 */
export async function installWebUi(http: FastifyInstance, dir: string = webDistDir()): Promise<void> {
  const built = existsSync(path.join(dir, 'index.html'));
  if (!built) http.log.warn({ dir }, 'the web UI is not built: `/` shows how to build it (npm run build)');
  await http.register(async (scope) => {
    if (built) {
      await scope.register(fastifyStatic, {
        root: dir,
        prefix: '/',
        // routes for the files present at start (the build runs before `npm start`); the SPA
        // fallback below is a route of its own, so unknown paths still reach the JSON 404 handler
        wildcard: false,
        setHeaders(reply, file) {
          // hashed asset names change with their content; index.html must always be revalidated
          void reply.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
        },
      });
    } else {
      scope.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(missingPage(dir)));
    }
    scope.get('/*', { schema: { hide: true } }, async (req: FastifyRequest, reply: FastifyReply) => {
      if (!wantsHtml(req)) return reply.callNotFound();
      if (!built) return reply.type('text/html; charset=utf-8').send(missingPage(dir));
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
  });
}
