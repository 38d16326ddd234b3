import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from '@semibot/mock-llm';
import { cleanupHome, readSse, sendAndStream, startPlatform, waitFor, type Platform } from './harness.js';
import { planeProcesses } from './semigraph-helpers.js';

/** Log lines (JSON) the control plane printed, including the planes' lines it passes through. */
function logLines(p: Platform): Record<string, unknown>[] {
  return p.logs
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** `name{labels} value` → value, from Prometheus text. */
function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('observability: request ids across processes, metrics, and no secrets in logs', () => {
  let p: Platform;
  let mock: MockLlm;
  const secrets = {
    jwtSecret: 'jwt-secret-0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c',
    llmKey: 'sk-live-LLMKEY-do-not-log-7731',
    password: 'S3cret-pass-do-not-log-4412',
    mcpHeader: 'Bearer mcp-header-secret-9001',
    mcpEnv: 'mcp-env-secret-5150',
  };
  beforeAll(async () => {
    mock = await startMockLlm();
    p = await startPlatform({
      env: { JWT_SECRET: secrets.jwtSecret, SEMIBOT_LLM_BASE_URL: mock.url, SEMIBOT_LLM_API_KEY: secrets.llmKey, SEMIBOT_LLM_MODEL: 'mock-1', LOG_LEVEL: 'debug' },
    });
  });
  afterAll(async () => {
    await p?.stop();
    await mock?.close();
    if (p) cleanupHome(p);
  });

  it("follows one turn by its request id through the control plane's and the plane's log lines", async () => {
    const { token, sessionId } = await p.chat();
    const res = await fetch(`${p.url}/api/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream', 'x-request-id': 'turn-req-4242' },
      body: JSON.stringify({ content: '/echo traced' }),
    });
    expect(res.headers.get('x-request-id')).toBe('turn-req-4242');
    const frames = await readSse(res, { until: (f) => f.event === 'done' });
    const runId = frames[0]!.data.runId;
    const lines = await waitFor(async () => {
      const l = logLines(p).filter((x) => x.requestId === 'turn-req-4242');
      // both sides log their last line after the client already has `done`: wait for both
      const seen = (service: string, msg: string) => l.some((x) => x.service === service && x.msg === msg);
      return seen('runtime', 'turn finished') && seen('control-plane', 'run finished') ? l : null;
    });
    const byService = (s: string) => lines.filter((l) => l.service === s).map((l) => l.msg);
    expect(byService('control-plane')).toEqual(expect.arrayContaining(['run delivered to plane', 'run finished']));
    expect(byService('runtime')).toEqual(expect.arrayContaining(['turn started', 'turn finished']));
    expect(lines.every((l) => l.runId === runId)).toBe(true);
    // a request without an id gets a fresh one back
    const plain = await fetch(`${p.url}/healthz`);
    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('moves the Prometheus metrics when a turn runs', async () => {
    const before = await (await fetch(`${p.url}/metrics`)).text();
    const { token, sessionId } = await p.chat();
    await sendAndStream(p, token, sessionId, '/echo one two three');
    // usage reports are fire-and-forget: they may land just after the client's `done`
    const tokensOut = (t: string) => metric(t, 'semibot_llm_tokens_total', 'model="mock-1",direction="out"');
    const after = await waitFor(async () => {
      const t = await (await fetch(`${p.url}/metrics`)).text();
      return tokensOut(t) > tokensOut(before) ? t : null;
    });
    expect(metric(after, 'semibot_runs_total', 'state="completed"')).toBe(metric(before, 'semibot_runs_total', 'state="completed"') + 1);
    expect(metric(after, 'semibot_events_relayed_total')).toBeGreaterThan(metric(before, 'semibot_events_relayed_total'));
    expect(metric(after, 'semibot_planes_connected')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^# TYPE semibot_process_resident_memory_bytes gauge$/m);
    expect(metric(after, 'semibot_run_duration_seconds_count', 'status="completed"')).toBe(metric(before, 'semibot_run_duration_seconds_count', 'status="completed"') + 1);
    expect(metric(after, 'semibot_llm_tokens_total', 'model="mock-1",direction="out"')).toBeGreaterThan(metric(before, 'semibot_llm_tokens_total', 'model="mock-1",direction="out"'));
    expect(metric(after, 'semibot_http_requests_total', 'method="POST",route="/api/v1/agents",status="201"')).toBeGreaterThanOrEqual(1);
    expect(metric(after, 'semibot_planes', 'state="ready"')).toBeGreaterThanOrEqual(1);
    // the planes' own figures, labelled by plane
    expect(after).toMatch(/^semibot_plane_rss_bytes\{plane="[0-9a-f-]{36}"\} \d+$/m);
    // every non-comment line is `name{labels} value`
    for (const line of after.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-zA-Z_:][\w:]*(\{.*\})? -?[\d.e+-]+|NaN$/);
  });

  it('never writes a secret into any log line, through a full run of the product', async () => {
    const email = `secret-${Date.now()}@example.com`;
    const reg = await p.api('POST', '/auth/register', { body: { email, password: secrets.password } });
    expect(reg.status).toBe(201);
    await p.api('POST', '/auth/login', { body: { email, password: secrets.password } });
    await p.api('POST', '/auth/login', { body: { email, password: `${secrets.password}-wrong` } });
    const token = reg.body.token as string;
    const key = (await p.api('POST', '/api-keys', { token, body: { name: 'ci' } })).body.key as string;
    await p.api('POST', '/mcp-servers', {
      token: key,
      body: { name: 'remote', transport: 'streamable_http', url: 'http://127.0.0.1:9/mcp', headers: { authorization: secrets.mcpHeader } },
    });
    await p.api('POST', '/mcp-servers', {
      token: key,
      body: { name: 'local', transport: 'stdio', command: 'definitely-not-a-command', env: { TOKEN: secrets.mcpEnv } },
    });
    const mcp = (await p.api('GET', '/mcp-servers', { token: key })).body.data.map((s: { id: string }) => s.id);
    const agent = await p.api('POST', '/agents', { token: key, body: { name: 'a', mcpServerIds: mcp } });
    const session = await p.api('POST', '/sessions', { token: key, body: { agentId: agent.body.id } });
    await sendAndStream(p, key, session.body.id, '/echo hello');
    await p.api('GET', '/sessions', { token: 'Bearer-garbage' });
    await p.api('POST', '/agents', { token, rawBody: '{"broken' });

    // the plane's own credentials, from its environment
    const plane = planeProcesses(p).find((x) => x.environ.includes('SEMIBOT_CONNECT_TICKET='))!;
    const env = Object.fromEntries(plane.environ.split('\0').filter(Boolean).map((kv) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)]));
    const all = p.logs.join('');
    for (const secret of [...Object.values(secrets), token, key, env.SEMIBOT_VM_TOKEN!, env.SEMIBOT_CONNECT_TICKET!]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(all.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 6)}…`).toBe(false);
    }
    expect(all.length).toBeGreaterThan(1000); // the logs were really captured
  });
});
