import { describe, expect, test } from 'bun:test';
import { context, SpanKind, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createTracing, type Tracing } from './tracing';

const TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
const SPAN = 'e457b5a2e4d86bd1';

function tracingWith(sampleRatio = 1, serviceName = 'service-x') {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ serviceName, version: 'v9', sampleRatio, exporter })!;
  return { tracing, exporter };
}

const sampledOf = (tracing: Tracing, headers: Record<string, string>) =>
  (tracing.startServer(new Headers(headers), 'GET /x', {}).span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

describe('tracing setup', () => {
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

describe('outgoing B3 headers', () => {
  test("carry the child span's ids, its parent, the decision; other forwarded headers stay", () => {
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
    });
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

  test('a message consumer continues the context found in the message headers', () => {
    const { tracing } = tracingWith(0);
    const { span } = tracing.startConsumer({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' }, 'process q', {});
    expect(span.spanContext().traceId).toBe(TRACE);
    expect((span as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId).toBe(SPAN);
  });
});
