import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupHome, readSse, startPlatform, waitFor, type Platform } from './harness.js';

interface Span {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

/** A minimal OTLP/HTTP (JSON) trace receiver: what a collector at OTEL_EXPORTER_OTLP_ENDPOINT would get. */
function otlpReceiver(): Promise<{ url: string; spans: Span[]; server: Server }> {
  const spans: Span[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as {
          resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Omit<Span, 'service'>[] }[] }[];
        };
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ service, name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '' });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server })));
}

describe('tracing (OpenTelemetry, OTLP/HTTP)', () => {
  let p: Platform;
  let otlp: Awaited<ReturnType<typeof otlpReceiver>>;
  beforeAll(async () => {
    otlp = await otlpReceiver();
    p = await startPlatform({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '100' } });
  });
  afterAll(async () => {
    await p?.stop();
    otlp?.server.close();
    if (p) cleanupHome(p);
  });

  it("one turn is one trace: the client's span → run (control plane) → turn (plane) → model and tool calls", async () => {
    const { token, sessionId } = await p.chat();
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const clientSpan = '1122334455667788';
    const res = await fetch(`${p.url}/api/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream', traceparent: `00-${traceId}-${clientSpan}-01` },
      body: JSON.stringify({ content: '/tool run_command {"command":"echo traced"}' }),
    });
    const frames = await readSse(res, { until: (f) => f.event === 'done' });
    expect(frames.at(-1)!.data.status).toBe('completed');

    const spans = await waitFor(async () => {
      const mine = otlp.spans.filter((s) => s.traceId === traceId);
      return mine.some((s) => s.name === 'run') && mine.filter((s) => s.name === 'llm.call').length === 2 ? mine : null;
    });
    const one = (name: string) => spans.find((s) => s.name === name)!;
    const run = one('run');
    const turn = one('turn');
    expect(run).toMatchObject({ service: 'semibot-control-plane', parentSpanId: clientSpan });
    expect(turn).toMatchObject({ service: 'semibot-runtime', parentSpanId: run.spanId });
    expect(one('tool.call')).toMatchObject({ service: 'semibot-runtime', parentSpanId: turn.spanId });
    for (const llm of spans.filter((s) => s.name === 'llm.call')) expect(llm.parentSpanId).toBe(turn.spanId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
  });
});
