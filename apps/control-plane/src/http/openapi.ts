import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/**
 * The OpenAPI document, generated from the routes' zod schemas (so it cannot drift from what the
 * server validates): JSON at /openapi.json, a browsable UI at /docs. Must be registered before
 * the routes it describes.
 */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Semibot API',
        version: '1',
        description:
          'Multi-tenant AI agent platform. Authenticate with `Authorization: Bearer <JWT or sbk_ API key>` ' +
          '(from POST /api/v1/auth/register or /login). Errors are `{"error": {"code", "message"}}`. ' +
          'Streams are Server-Sent Events resumable with Last-Event-ID.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
