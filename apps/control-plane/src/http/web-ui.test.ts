import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from './errors.js';
import { installWebUi, webDistDir } from './web-ui.js';

const html = { accept: 'text/html,application/xhtml+xml' };
let app: FastifyInstance | null = null;
let dir = '';

async function serve(build: boolean) {
  dir = mkdtempSync(path.join(tmpdir(), 'semibot-webui-'));
  if (build) {
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(dir, 'assets/app-1234.js'), 'console.log(1)');
  }
  app = Fastify();
  installErrorHandling(app);
  app.get('/api/v1/known', async () => ({ ok: true }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await installWebUi(app, dir);
  return app;
}

afterEach(async () => {
  await app?.close();
  app = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('web UI serving', () => {
  it('serves index.html at / and for client-side routes a browser asks for', async () => {
    const a = await serve(true);
    for (const url of ['/', '/chat/agent/session', '/usage?x=1']) {
      const r = await a.inject({ url, headers: html });
      expect(r.statusCode, url).toBe(200);
      expect(r.body).toContain('<div id="root">');
      expect(r.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves built files, hashed assets cached for good', async () => {
    const r = await (await serve(true)).inject({ url: '/assets/app-1234.js' });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('console.log(1)');
    expect(r.headers['cache-control']).toContain('immutable');
  });

  it('keeps JSON 404s for API paths, ops paths and non-HTML requests, and never leaves the build', async () => {
    const a = await serve(true);
    for (const [url, headers] of [
      ['/api/v1/nope', html],
      ['/api/v1/known/extra', {}],
      ['/metrics/x', html],
      ['/assets/missing.js', {}],
      ['/chat/x', { accept: 'application/json' }],
      ['/%2e%2e/%2e%2e/etc/passwd', {}],
    ] as const) {
      const r = await a.inject({ url, headers });
      expect(r.statusCode, url).toBe(404);
      expect(r.json().error.code, url).toBe('NOT_FOUND');
    }
    expect((await a.inject({ url: '/api/v1/known' })).json()).toEqual({ ok: true });
    expect((await a.inject({ url: '/healthz', headers: html })).json()).toEqual({ status: 'ok' });
  });

  it('without a build, explains how to make one (and API 404s stay JSON)', async () => {
    const a = await serve(false);
    const r = await a.inject({ url: '/', headers: html });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('npm run build');
    expect((await a.inject({ url: '/api/v1/nope', headers: html })).statusCode).toBe(404);
  });

  it('finds apps/web/dist from its own location, or SEMIBOT_WEB_DIST', () => {
    expect(webDistDir({})).toMatch(/apps[/\\]web[/\\]dist[/\\]?$/);
    expect(webDistDir({ SEMIBOT_WEB_DIST: '/srv/web' })).toBe(path.resolve('/srv/web'));
  });
});
