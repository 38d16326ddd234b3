import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { SemibotError, type ErrorBody, type ErrorCode } from '@semibot/protocol';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A malformed id can name nothing, so it is a 404 like any other wrong id (never a 500 from SQL). */
export function requireUuid(id: string, what: string): string {
  if (!UUID.test(id)) throw notFound(what);
  return id;
}

export const notFound = (what: string) => new SemibotError('NOT_FOUND', `${what} not found`, 404);

const body = (code: ErrorCode, message: string, details?: unknown): ErrorBody => ({
  error: { code, message, ...(details !== undefined ? { details } : {}) },
});

/** Every failure leaves as `{error: {code, message}}` with a fitting status. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(body('NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`));
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (SemibotError.is(err)) {
      if (err.extra.retryAfterMs) void reply.header('retry-after', Math.ceil(err.extra.retryAfterMs / 1000));
      return reply.status(err.status).send(err.toBody());
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const details = err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message }));
      const first = details[0];
      return reply
        .status(400)
        .send(body('VALIDATION_ERROR', first ? `${first.path}: ${first.message}` : 'invalid request', details));
    }
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.status(400).send(body('INVALID_JSON', 'request body is not valid JSON'));
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.status(413).send(body('PAYLOAD_TOO_LARGE', 'request body is too large'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.status(415).send(body('UNSUPPORTED_MEDIA_TYPE', 'send JSON with content-type: application/json'));
    }
    if (err instanceof SyntaxError || err.statusCode === 400) {
      return reply.status(400).send(body('INVALID_JSON', 'request body is not valid JSON'));
    }
    if (err.statusCode === 413) return reply.status(413).send(body('PAYLOAD_TOO_LARGE', 'request body is too large'));
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(body('INTERNAL_ERROR', 'internal error'));
  });
}
