import { describe, expect, test } from 'bun:test';
import { context, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createTracing, failSpan, isSampled, SPAN_KIND, type Tracing, type TracingOptions } from './tracing';

const TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
const SPAN = 'e457b5a2e4d86bd1';

function tracingWith(sampleRatio = 1, serviceName = 'service-x', extra: Partial<TracingOptions> = {}) {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ serviceName, version: 'v9', sampleRatio, exporter, ...extra })!;
  return { tracing, exporter };
}

const sampledOf = (tracing: Tracing, headers: Record<string, string>) =>
  (tracing.startServer(new Headers(headers), 'GET /x', {}).span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

describe('tracing setup', () => {
  test("the span kinds, the error status and the sampled flag spelled out without the API are the API's", async () => {
    expect(SPAN_KIND).toEqual({ SERVER: SpanKind.SERVER, CLIENT: SpanKind.CLIENT, PRODUCER: SpanKind.PRODUCER, CONSUMER: SpanKind.CONSUMER });
    const { tracing, exporter } = tracingWith();
    const { span } = tracing.startServer(new Headers(), 'GET /x', {});
    expect(isSampled(span)).toBe(true);
    failSpan(span, 'upstream timed out', 'timeout');
    span.end();
    await tracing.flush();
    expect(exporter.getFinishedSpans()[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'upstream timed out' });
    expect(exporter.getFinishedSpans()[0]!.attributes['error.type']).toBe('timeout');
    expect(isSampled(tracingWith(0).tracing.startServer(new Headers(), 'GET /x', {}).span)).toBe(false);
  });

  test('no ZIPKIN_URL and no exporter: tracing is off (no object at all)', () => {
    expect(createTracing({ serviceName: 'service-a', version: 'v1', sampleRatio: 1 })).toBeUndefined();
  });

  test('a ZIPKIN_URL turns it on', async () => {
    const tracing = createTracing({ serviceName: 'service-a', version: 'v1', sampleRatio: 1, zipkinUrl: 'http://127.0.0.1:9/api/v2/spans' });
    expect(tracing).toBeDefined();
    await tracing!.shutdown();
  });

  test('two roles in one process each name their own service on their spans', async () => {
    const one = tracingWith(1, 'service-one');
    const two = tracingWith(1, 'service-two');
    one.tracing.startServer(new Headers(), 'GET /x', {}).span.end();
    two.tracing.startServer(new Headers(), 'GET /x', {}).span.end();
    await Promise.all([one.tracing.flush(), two.tracing.flush()]);
    expect(one.exporter.getFinishedSpans().map((s) => s.resource.attributes['service.name'])).toEqual(['service-one']);
    expect(two.exporter.getFinishedSpans().map((s) => s.resource.attributes['service.name'])).toEqual(['service-two']);
  });

  test("OTEL_RESOURCE_ATTRIBUTES land on the resource; service.name and service.version stay the role's", async () => {
    const { tracing, exporter } = tracingWith(1, 'service-one', { resourceAttributes: { 'deployment.environment.name': 'dev', 'k8s.pod.name': 'p-1' } });
    tracing.startServer(new Headers(), 'GET /x', {}).span.end();
    await tracing.flush();
    expect(exporter.getFinishedSpans()[0]!.resource.attributes).toMatchObject({
      'service.name': 'service-one',
      'service.version': 'v9',
      'deployment.environment.name': 'dev',
      'k8s.pod.name': 'p-1',
    });
  });

  test('spans wait in the batch and shutdown sends them', async () => {
    const { tracing, exporter } = tracingWith();
    tracing.startServer(new Headers(), 'GET /x', {}).span.end();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    const sent: number[] = [];
    const exportBatch = exporter.export.bind(exporter);
    exporter.export = (spans, done) => {
      sent.push(spans.length);
      exportBatch(spans, done);
    };
    await tracing.shutdown();
    expect(sent).toEqual([1]);
  });
});

describe('sampling', () => {
  test('a new trace is recorded at the configured ratio', () => {
    expect(sampledOf(tracingWith(1).tracing, {})).toBe(true);
    expect(sampledOf(tracingWith(0).tracing, {})).toBe(false);
  });

  test("the caller's decision wins over the ratio, both ways", () => {
    expect(sampledOf(tracingWith(0).tracing, { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' })).toBe(true);
    expect(sampledOf(tracingWith(1).tracing, { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' })).toBe(false);
    expect(sampledOf(tracingWith(0).tracing, { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' })).toBe(true);
  });

  test('a caller that deferred (ids, no decision) leaves the ratio to us, and the trace id stays', () => {
    const { tracing } = tracingWith(1);
    const { span } = tracing.startServer(new Headers({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN }), 'GET /x', {});
    expect(span.spanContext().traceId).toBe(TRACE);
    expect(span.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(sampledOf(tracingWith(0).tracing, { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN })).toBe(false);
  });

  test('children follow their server span: a deferred decision is taken once per role, not again per span', () => {
    const edge = tracingWith(1).tracing;
    const { ctx } = edge.startServer(new Headers({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN }), 'GET /x', {});
    // A tracer that would never start a trace of its own still records the child: the parent decided.
    const never = tracingWith(0).tracing;
    const child = context.with(ctx, () => never.startChild('call', SpanKind.CLIENT, {}));
    expect(child.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
  });
});

describe('outgoing headers', () => {
  test("carry the child span's ids, its parent, the decision, in B3 and W3C; other forwarded headers stay", () => {
    const { tracing } = tracingWith(1);
    const incoming = { 'x-request-id': 'r1', 'x-ot-span-context': 'ot', 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': '05e3ac9a4f6e3b90', 'x-b3-sampled': '1' };
    const { ctx, span: server } = tracing.startServer(new Headers(incoming), 'GET /x', {});
    const out = context.with(ctx, () => {
      const client = tracing.startChild('call', SpanKind.CLIENT, {});
      return { headers: tracing.headersFor(client, incoming), id: client.spanContext().spanId };
    });
    expect(out.headers).toEqual({
      'x-request-id': 'r1',
      'x-ot-span-context': 'ot',
      'x-b3-traceid': TRACE,
      'x-b3-spanid': out.id,
      'x-b3-parentspanid': server.spanContext().spanId,
      'x-b3-sampled': '1',
      traceparent: `00-${TRACE}-${out.id}-01`,
    });
  });

  test('a role configured for one format writes only that one, and drops the stale other one its caller sent', () => {
    const incoming = { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1', traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=1' };
    const written = (propagators: TracingOptions['propagators']) => {
      const { tracing } = tracingWith(1, 'service-x', { propagators });
      const { ctx } = tracing.startServer(new Headers(incoming), 'GET /x', {});
      return context.with(ctx, () => Object.keys(tracing.headersFor(tracing.startChild('c', SpanKind.CLIENT, {}), incoming)).sort());
    };
    expect(written(['tracecontext'])).toEqual(['traceparent', 'tracestate']);
    expect(written(['b3multi'])).toEqual(['x-b3-parentspanid', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
  });

  test("a W3C caller's tracestate reaches the callee unchanged, through our span", () => {
    const { tracing } = tracingWith(1, 'service-x', { propagators: ['tracecontext'] });
    const { ctx } = tracing.startServer(new Headers({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' }), 'GET /x', {});
    const out = context.with(ctx, () => tracing.headersFor(tracing.startChild('c', SpanKind.CLIENT, {}), {}));
    expect(out.tracestate).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
  });

  test('both formats present and disagreeing: the last listed wins (a sidecar rewrote it; the other one is a hop stale)', () => {
    const b3Parent = '1111111111111111';
    const w3cParent = '2222222222222222';
    const headers = { 'x-b3-traceid': TRACE, 'x-b3-spanid': b3Parent, 'x-b3-sampled': '1', traceparent: `00-${TRACE}-${w3cParent}-01` };
    const parentOf = (propagators: TracingOptions['propagators']) =>
      (tracingWith(1, 'service-x', { propagators }).tracing.startServer(new Headers(headers), 'GET /x', {}).span as unknown as { parentSpanContext?: { spanId: string } })
        .parentSpanContext?.spanId;
    expect(parentOf(undefined)).toBe(b3Parent);
    expect(parentOf(['tracecontext', 'b3multi'])).toBe(b3Parent);
    expect(parentOf(['b3multi', 'tracecontext'])).toBe(w3cParent);
    // A format the role does not read is ignored altogether, even when it is the only one present.
    expect(parentOf(['b3multi'])).toBe(b3Parent);
    const onlyW3c = tracingWith(1, 'service-x', { propagators: ['b3multi'] }).tracing.startServer(new Headers({ traceparent: headers.traceparent }), 'GET /x', {});
    expect(onlyW3c.span.spanContext().traceId).not.toBe(TRACE);
  });

  test('a debug trace stays debug downstream; an unsampled one says so', () => {
    const { tracing } = tracingWith(1);
    const debug = tracing.startServer(new Headers({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }), 'GET /x', {});
    const debugOut = context.with(debug.ctx, () => tracing.headersFor(tracing.startChild('c', SpanKind.CLIENT, {}), {}));
    expect(debugOut['x-b3-flags']).toBe('1');
    const off = tracing.startServer(new Headers({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' }), 'GET /x', {});
    const offOut = context.with(off.ctx, () => tracing.headersFor(tracing.startChild('c', SpanKind.CLIENT, {}), {}));
    expect(offOut['x-b3-sampled']).toBe('0');
    expect(offOut['x-b3-traceid']).toBe(TRACE);
  });

  test('a message consumer continues the context found in the message headers, B3 or W3C', () => {
    const { tracing } = tracingWith(0);
    const carriers: Record<string, string>[] = [{ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' }, { traceparent: `00-${TRACE}-${SPAN}-01` }];
    for (const headers of carriers) {
      const { span } = tracing.startConsumer(headers, 'process q', {});
      expect(span.spanContext().traceId).toBe(TRACE);
      expect(span.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
      expect((span as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId).toBe(SPAN);
    }
  });
});
