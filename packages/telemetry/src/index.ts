import { ROOT_CONTEXT, SpanStatusCode, context, propagation, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';

export type { Context, Span } from '@opentelemetry/api';
export { REDACTED, logRedaction, redactChildBindings, redactSecrets } from './redact.js';

/**
 * Tracing for a Semibot process. Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then only the
 * OpenTelemetry API is loaded, whose tracer is a no-op (a span costs a few allocations). When the
 * endpoint is set, the SDK and the OTLP/HTTP exporter load and spans are batched to
 * `${OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces` (the exporter honours the other OTEL_* variables).
 */
export async function initTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<{ enabled: boolean; shutdown(): Promise<void> }> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return { enabled: false, shutdown: async () => {} };
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, { W3CTraceContextPropagator }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/core'),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return { enabled: true, shutdown: () => provider.shutdown() };
}

/** Starts a span under `parent` (a context, a span, or nothing for a new trace). */
export function startSpan(scope: string, name: string, parent?: Context | Span, attributes?: Attributes): Span {
  const ctx = parent === undefined ? ROOT_CONTEXT : isSpan(parent) ? trace.setSpan(ROOT_CONTEXT, parent) : parent;
  return trace.getTracer(scope).startSpan(name, attributes ? { attributes } : {}, ctx);
}

/** Ends a span, marking it failed when `error` is given. */
export function endSpan(span: Span, error?: unknown, attributes?: Attributes): void {
  if (attributes) span.setAttributes(attributes);
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** The W3C `traceparent` of a span, to carry in a message to another process; undefined when tracing is off. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier.traceparent;
}

/** The context a `traceparent` (from an HTTP header or a message) continues. */
export function contextFrom(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

function isSpan(x: Context | Span): x is Span {
  return typeof (x as Span).spanContext === 'function';
}

/** The context whose active span is `span`: what child spans take as their parent. */
export function contextOf(span: Span): Context {
  return trace.setSpan(ROOT_CONTEXT, span);
}
