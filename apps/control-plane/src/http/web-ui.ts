import { existsSync, statSync } from 'node:fs';
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

const wantsHtml = (req: FastifyRequest) => (req.headers.accept ?? '').includes('text/html');

const missingPage = (dir: string) => `<!doctype html><meta charset="utf-8"><title>Semibot</title>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>Semibot is running</h1><p>The web console has not been built, so there is nothing to show here yet.
Build it with <code>npm run build</code> (or <code>npm run build -w apps/web</code>) and reload.</p>
<p>Looked in <code>${dir.replace(/[<&>]/g, '')}</code>. The API is at <a href="/docs">/docs</a>.</p></body>`;

/** A file of the build for this URL path, or null (outside the build, a folder, or absent). */
function builtFile(dir: string, url: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(url.split('?')[0]!).replace(/^\/+/, '');
  } catch {
    return null;
  }
  if (!rel) return null;
  const full = path.resolve(dir, rel);
  if (!full.startsWith(dir + path.sep)) return null; // `..` or an absolute path: never outside the build
  return existsSync(full) && statSync(full).isFile() ? path.relative(dir, full) : null;
}

/**
 * Serves the built web console at `/`: its files as they are, and index.html for any other GET that
 * a browser makes for a page (client-side routes such as /chat/…), so deep links and reloads work.
 * API paths keep their JSON 404. Files are looked up per request, so a rebuild while the server
 * runs is picked up. Registered in its own scope so its reply decorators stay local.
 */
export async function installWebUi(http: FastifyInstance, dir: string = webDistDir()): Promise<void> {
  const root = path.resolve(dir);
  const built = existsSync(path.join(root, 'index.html'));
  if (!built) http.log.warn({ dir: root }, 'the web UI is not built: `/` shows how to build it (npm run build)');
  await http.register(async (scope) => {
    if (built) await scope.register(fastifyStatic, { root, serve: false });
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      if (RESERVED.test(req.url)) return reply.callNotFound();
      if (!built) return wantsHtml(req) ? reply.type('text/html; charset=utf-8').send(missingPage(root)) : reply.callNotFound();
      const file = builtFile(root, req.url);
      // hashed asset names change with their content; index.html must always be revalidated
      const immutable = file !== null && file.startsWith(`assets${path.sep}`);
      if (file) return reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache').sendFile(file, { cacheControl: false });
      if (!wantsHtml(req) && req.url !== '/') return reply.callNotFound();
      return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    };
    scope.get('/', { schema: { hide: true } }, handler);
    scope.get('/*', { schema: { hide: true } }, handler);
  });
}
