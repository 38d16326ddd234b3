import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, startPlatform, type Platform } from './harness.js';

describe('API documentation', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
    if (p) cleanupHome(p);
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas, covering every route', async () => {
    const doc = (await (await fetch(`${p.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    for (const r of [
      'POST /api/v1/auth/register', 'POST /api/v1/auth/login', 'POST /api/v1/agents', 'GET /api/v1/agents',
      'GET /api/v1/agents/{id}', 'PATCH /api/v1/agents/{id}', 'DELETE /api/v1/agents/{id}', 'POST /api/v1/sessions',
      'GET /api/v1/sessions', 'GET /api/v1/sessions/{id}', 'DELETE /api/v1/sessions/{id}', 'GET /api/v1/sessions/{id}/messages',
      'POST /api/v1/sessions/{id}/messages', 'GET /api/v1/sessions/{id}/events', 'POST /api/v1/sessions/{id}/cancel',
      'GET /api/v1/runs/{id}', 'GET /api/v1/vm/status', 'POST /api/v1/vm/rebootstrap', 'POST /api/v1/skills',
      'GET /api/v1/skills', 'POST /api/v1/mcp-servers', 'PATCH /api/v1/mcp-servers/{id}', 'GET /api/v1/memories',
      'POST /api/v1/memories/search', 'GET /api/v1/usage', 'GET /api/v1/audit', 'GET /healthz', 'GET /readyz', 'GET /metrics',
    ]) {
      expect(routes).toContain(r);
    }
    // request bodies are described by the same zod schemas the server validates with
    const register = doc.paths['/api/v1/auth/register']!.post!.requestBody!.content['application/json']!.schema as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(register.required).toEqual(expect.arrayContaining(['email', 'password']));
    expect(Object.keys(register.properties)).toEqual(expect.arrayContaining(['email', 'password', 'name']));
    expect((await fetch(`${p.url}/docs/`)).status).toBe(200);
  });
});
