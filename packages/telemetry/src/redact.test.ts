import { describe, expect, it } from 'vitest';
import { REDACTED, redactChildBindings, redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it('blanks every secret the log rule names, at the top and one level down', () => {
    const line = {
      token: 't', password: 'p', apiKey: 'k', ticket: 'c', authorization: 'Bearer x',
      cfg: { token: 't', password: 'p', passwordHash: 'h', apiKey: 'k', ticket: 'c', authorization: 'a', headers: { cookie: 'c' }, env: { SECRET: 's' }, llm: { apiKey: 'k', model: 'm' }, port: 8080 },
      req: { method: 'POST', headers: { authorization: 'Bearer x', cookie: 'c' } },
      llm: { apiKey: 'k', baseUrl: 'http://127.0.0.1' },
      runId: 'r1',
    };
    expect(redactSecrets(line)).toEqual({
      token: REDACTED, password: REDACTED, apiKey: REDACTED, ticket: REDACTED, authorization: REDACTED,
      cfg: { token: REDACTED, password: REDACTED, passwordHash: REDACTED, apiKey: REDACTED, ticket: REDACTED, authorization: REDACTED, headers: REDACTED, env: REDACTED, llm: { apiKey: REDACTED, model: 'm' }, port: 8080 },
      req: { method: 'POST', headers: REDACTED },
      llm: { apiKey: REDACTED, baseUrl: 'http://127.0.0.1' },
      runId: 'r1',
    });
  });

  it('returns an object without secrets as it is, and never changes the caller’s', () => {
    const plain = { sessionId: 's', attempt: 1, nested: { status: 'ok' }, list: [{ token: 'in an array: not scanned, as before' }] };
    expect(redactSecrets(plain)).toBe(plain);
    const secret = { nested: { token: 't', keep: 1 }, other: { n: 2 } };
    const out = redactSecrets(secret);
    expect(secret).toEqual({ nested: { token: 't', keep: 1 }, other: { n: 2 } });
    expect(out.other).toBe(secret.other); // only the objects that held a secret are copied
  });

  it('keeps an error’s class, message and stack when one of its fields is blanked', () => {
    const err = Object.assign(new TypeError('upstream refused'), { headers: { authorization: 'Bearer x' }, status: 401 });
    const out = redactSecrets({ err }).err;
    expect(out).toBeInstanceOf(TypeError);
    expect(out.message).toBe('upstream refused');
    expect(out.stack).toBe(err.stack);
    expect(out.headers).toBe(REDACTED);
    expect(out.status).toBe(401);
    expect(err.headers).toEqual({ authorization: 'Bearer x' });
  });

  it('blanks a field behind a getter or on a frozen object without throwing', () => {
    const frozen = Object.freeze({ apiKey: 'k', n: 1 });
    const withGetter = Object.defineProperty({ n: 1 }, 'token', { get: () => 't', enumerable: true });
    expect(redactSecrets({ frozen, withGetter })).toEqual({ frozen: { apiKey: REDACTED, n: 1 }, withGetter: { n: 1, token: REDACTED } });
  });
});

describe('redactChildBindings', () => {
  it('blanks the bindings of children and of their children, with or without options', () => {
    const seen: object[] = [];
    const fake = { child: (bindings: object, _options?: object) => (seen.push(bindings), fake) };
    const logger = redactChildBindings(fake);
    logger.child({ token: 't', runId: 'r' }).child({ cfg: { apiKey: 'k' } });
    logger.child({ ticket: 'c' }, { level: 'warn' } as object);
    expect(seen).toEqual([{ token: REDACTED, runId: 'r' }, { cfg: { apiKey: REDACTED } }, { ticket: REDACTED }]);
  });
});
