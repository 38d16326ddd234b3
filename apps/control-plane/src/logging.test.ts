import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logging.js';

/** The JSON lines a logger writes, as text (what a log collector would receive). */
function capture() {
  const out = new PassThrough();
  const lines: string[] = [];
  out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { out, lines };
}
const flush = () => new Promise((r) => setImmediate(r));

describe('createLogger', () => {
  it('writes no secret, from a log object, a child’s bindings or a grandchild’s, and keeps the rest', async () => {
    const { out, lines } = capture();
    const logger = createLogger('info', 'test', out);
    logger.info({ llm: { apiKey: 'sk-live-1', model: 'm' }, req: { headers: { authorization: 'Bearer jwt-2' } } }, 'configured');
    const run = logger.child({ runId: 'run-1', token: 'vm-token-3' });
    run.child({ component: 'x', cfg: { ticket: 'ticket-4' } }).warn({ attempt: 2 }, 'retrying');
    logger.child({ requestId: 'q' }, { level: 'info' }).info({ env: 'top-level env is not a secret name', password: 'pw-5' }, 'login');
    run.error({ err: Object.assign(new Error('refused'), { headers: { cookie: 'c-6' } }) }, 'failed');
    await flush();
    const text = lines.join('\n');
    for (const secret of ['sk-live-1', 'jwt-2', 'vm-token-3', 'ticket-4', 'pw-5', 'c-6']) expect(text).not.toContain(secret);
    const [configured, retrying, login, failed] = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(configured).toMatchObject({ service: 'test', msg: 'configured', llm: { apiKey: '[redacted]', model: 'm' }, req: { headers: '[redacted]' } });
    expect(retrying).toMatchObject({ runId: 'run-1', token: '[redacted]', component: 'x', cfg: { ticket: '[redacted]' }, attempt: 2 });
    expect(login).toMatchObject({ requestId: 'q', password: '[redacted]', env: 'top-level env is not a secret name' });
    expect(failed!.err).toMatchObject({ type: 'Error', message: 'refused', headers: '[redacted]' });
    expect(failed!.err.stack).toContain('refused');
  });
});
