/**
 * The recording tracer against the SDK's own: the same calls through both, and what reaches an exporter must be the same span
 * in every field but the random ids and the clock (names, kinds, attributes kept and dropped, status, events, links, trace
 * state, parentage, resource, scope), serialised the same by the Zipkin and the OTLP exporters' own transforms.
 */
import { describe, expect, spyOn, test } from 'bun:test';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import { suppressTracing, TraceState } from '@opentelemetry/core';
import { toZipkinSpan } from '@opentelemetry/exporter-zipkin/build/src/transform';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, TraceIdRatioBasedSampler, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace-base';
import { LIMITS, randomId, RecordingTracer } from './recording-tracer';
import { createProvider } from './tracing-sdk';

// A traced role's provider installs the process's context manager (AsyncLocalStorage), which context.with needs.
createProvider({ serviceName: 'service-x', version: 'v9', sampleRatio: 1, exporter: new InMemorySpanExporter() });

const resource = resourceFromAttributes({ 'service.name': 'service-x', 'service.version': 'v9' });
const scope = { name: 'greeting-mesh', version: 'v9' };

function both(sampler: Sampler = new TraceIdRatioBasedSampler(1)) {
  const sdkSpans = new InMemorySpanExporter();
  const oursSpans = new InMemorySpanExporter();
  const sdk = new BasicTracerProvider({ resource, sampler, spanProcessors: [new SimpleSpanProcessor(sdkSpans)] }).getTracer(scope.name, scope.version);
  const ours = new RecordingTracer({ resource, scope, sampler, processors: [new SimpleSpanProcessor(oursSpans)] });
  return { sdk, ours, sdkSpans, oursSpans };
}

/** A span with its ids replaced by their order of appearance and its times left out: what must agree between the tracers. */
function comparable(spans: ReadableSpan[]) {
  const ids = new Map<string, string>();
  const id = (value: string | undefined) => {
    if (value === undefined) return undefined;
    if (!ids.has(value)) ids.set(value, `id${ids.size}`);
    return ids.get(value);
  };
  return spans.map((s) => ({
    name: s.name,
    kind: s.kind,
    traceId: id(s.spanContext().traceId),
    spanId: id(s.spanContext().spanId),
    traceFlags: s.spanContext().traceFlags,
    traceState: s.spanContext().traceState?.serialize(),
    parentSpanId: id(s.parentSpanContext?.spanId),
    attributes: s.attributes,
    status: s.status,
    events: s.events.map((e) => ({ name: e.name, attributes: e.attributes, droppedAttributesCount: e.droppedAttributesCount })),
    links: s.links.map((l) => ({ attributes: l.attributes, context: { traceId: id(l.context.traceId), spanId: id(l.context.spanId), traceFlags: l.context.traceFlags, isRemote: l.context.isRemote } })),
    ended: s.ended,
    dropped: [s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount],
    resource: s.resource.attributes,
    scope: [s.instrumentationScope.name, s.instrumentationScope.version],
  }));
}

/** Runs `script` on both tracers; returns what each exporter received, comparable. */
function sideBySide(script: (tracer: Tracer) => void, sampler?: Sampler) {
  const { sdk, ours, sdkSpans, oursSpans } = both(sampler);
  script(sdk);
  script(ours);
  return { sdk: comparable(sdkSpans.getFinishedSpans()), ours: comparable(oursSpans.getFinishedSpans()), raw: { sdk: sdkSpans.getFinishedSpans(), ours: oursSpans.getFinishedSpans() } };
}

describe('the recording tracer records what the SDK records', () => {
  test('a server span and its children: parentage, kinds, attributes, names changed before the end', () => {
    const { sdk, ours } = sideBySide((tracer) => {
      const server = tracer.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/api/greeting' } }, ROOT_CONTEXT);
      server.updateName('GET /api/greeting');
      const ctx = trace.setSpan(ROOT_CONTEXT, server);
      for (const peer of ['service-b', 'service-c']) {
        const call = tracer.startSpan('GET', { kind: SpanKind.CLIENT, attributes: { 'peer.service': peer } }, ctx);
        call.setAttributes({ 'http.response.status_code': 200 });
        call.end();
      }
      context.with(ctx, () => tracer.startSpan('insert greetings', { kind: SpanKind.CLIENT }).end());
      server.setAttribute('http.route', '/api/greeting');
      server.end();
    });
    expect(ours).toEqual(sdk);
    const server = ours.at(-1)!;
    expect(ours.map((s) => s.parentSpanId)).toEqual([server.spanId, server.spanId, server.spanId, undefined]);
  });

  test('attribute values the API does not allow are dropped; past the limit, new keys are counted as dropped, old ones still change', () => {
    const { sdk, ours } = sideBySide((tracer) => {
      const span = tracer.startSpan('x', { attributes: { ok: 'yes', nothing: undefined, object: { a: 1 } as never, mixed: [1, 'a'] as never, list: ['a', 'b'], '': 'no key' } }, ROOT_CONTEXT);
      for (let i = 0; i < LIMITS.attributes + 5; i++) span.setAttribute(`k${i}`, i);
      span.setAttribute('ok', 'changed');
      span.setAttribute('flag', true);
      span.end();
    });
    expect(ours).toEqual(sdk);
    expect(ours[0]!.dropped[0]).toBe(8);
  });

  test('status: UNSET changes nothing, the last ERROR keeps its message, OK is final, a message that is not a string is dropped', () => {
    const { sdk, ours } = sideBySide((tracer) => {
      const a = tracer.startSpan('a', {}, ROOT_CONTEXT);
      a.setStatus({ code: SpanStatusCode.ERROR, message: 'first' });
      a.setStatus({ code: SpanStatusCode.UNSET });
      a.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timed out' });
      a.end();
      const b = tracer.startSpan('b', {}, ROOT_CONTEXT);
      b.setStatus({ code: SpanStatusCode.OK });
      b.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' });
      b.end();
      const c = tracer.startSpan('c', {}, ROOT_CONTEXT);
      c.setStatus({ code: SpanStatusCode.ERROR, message: 42 as never });
      c.end();
    });
    expect(ours).toEqual(sdk);
    expect(ours.map((s) => s.status)).toEqual([{ code: SpanStatusCode.ERROR, message: 'upstream timed out' }, { code: SpanStatusCode.OK }, { code: SpanStatusCode.ERROR }]);
  });

  test('after the end nothing changes, and a second end is not a second span', () => {
    const { sdk, ours } = sideBySide((tracer) => {
      const span = tracer.startSpan('x', {}, ROOT_CONTEXT);
      span.end();
      span.setAttribute('late', 1);
      span.updateName('renamed');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'late' });
      span.addEvent('late');
      span.end();
      expect(span.isRecording()).toBe(false);
    });
    expect(ours).toEqual(sdk);
    expect(ours).toHaveLength(1);
  });

  test('events, exceptions (an Error, a code, a string) and links, with their limits', () => {
    const { sdk, ours } = sideBySide((tracer) => {
      const other = tracer.startSpan('other', {}, ROOT_CONTEXT);
      other.end();
      const span = tracer.startSpan('x', { links: [{ context: other.spanContext(), attributes: { why: 'batch' } }] }, ROOT_CONTEXT);
      span.addEvent('plain');
      span.addEvent('with attributes', { size: 3, bad: undefined });
      span.addEvent('with a time', Date.now() - 5);
      span.recordException(Object.assign(new Error('no route'), { name: 'RouteError' }));
      span.recordException({ code: 'ECONNREFUSED', message: 'connection refused' });
      span.recordException('a string');
      span.addLink({ context: other.spanContext() });
      for (let i = 0; i < LIMITS.events; i++) span.addEvent(`e${i}`);
      span.end();
    });
    expect(ours.map(({ events, ...s }) => ({ ...s, events: events.map(({ attributes, ...e }) => ({ ...e, attributes: { ...attributes, 'exception.stacktrace': undefined } })) }))).toEqual(
      sdk.map(({ events, ...s }) => ({ ...s, events: events.map(({ attributes, ...e }) => ({ ...e, attributes: { ...attributes, 'exception.stacktrace': undefined } })) })),
    );
    expect(ours[1]!.dropped).toEqual([0, 6, 0]);
  });

  test("the sampler decides; a parent's trace state is kept; not sampled is a non-recording span that reaches no exporter", () => {
    const parent = trace.wrapSpanContext({ traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: 'e457b5a2e4d86bd1', traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState('congo=t61rcWkgMzE') });
    const results = sideBySide((tracer) => {
      tracer.startSpan('child of remote', { kind: SpanKind.SERVER }, trace.setSpan(ROOT_CONTEXT, parent)).end();
      tracer.startSpan('root', { root: true }, trace.setSpan(ROOT_CONTEXT, parent)).end();
    });
    expect(results.ours).toEqual(results.sdk);
    expect(results.ours[0]!.traceState).toBe('congo=t61rcWkgMzE');
    expect(results.raw.ours[0]!.spanContext().traceId).toBe('80f198ee56343ba864fe8b2a57d3eff7');
    expect(results.raw.ours[1]!.spanContext().traceId).not.toBe('80f198ee56343ba864fe8b2a57d3eff7');

    const { ours, oursSpans } = both(new TraceIdRatioBasedSampler(0));
    const span = ours.startSpan('dropped', {}, ROOT_CONTEXT);
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceFlags).toBe(TraceFlags.NONE);
    span.end();
    expect(oursSpans.getFinishedSpans()).toEqual([]);
  });

  test('a parent with invalid ids starts a new trace; under suppressed tracing no span is made', () => {
    const invalid = trace.wrapSpanContext({ traceId: 'not-hex'.padEnd(32, 'z'), spanId: 'e457b5a2e4d86bd1', traceFlags: TraceFlags.SAMPLED });
    const results = sideBySide((tracer) => {
      tracer.startSpan('x', {}, trace.setSpan(ROOT_CONTEXT, invalid)).end();
      const suppressed = tracer.startSpan('y', {}, suppressTracing(ROOT_CONTEXT));
      expect(trace.isSpanContextValid(suppressed.spanContext())).toBe(false);
      suppressed.end();
    });
    expect(results.ours).toEqual(results.sdk);
    expect(results.ours).toHaveLength(1);
    expect(results.ours[0]!.parentSpanId).toBeUndefined();
  });

  test('startActiveSpan makes the span active inside and returns what the function returns', () => {
    const { ours, oursSpans } = both();
    const seen = ours.startActiveSpan('active', (span: Span) => {
      const active = trace.getActiveSpan();
      span.end();
      return active === span ? 'active' : 'not active';
    });
    expect(seen).toBe('active');
    expect(oursSpans.getFinishedSpans().map((s) => s.name)).toEqual(['active']);
  });

  test('the Zipkin and OTLP exporters serialise both alike (ids and times aside)', () => {
    const { raw } = sideBySide((tracer) => {
      const server = tracer.startSpan('GET /api/greeting', { kind: SpanKind.SERVER, attributes: { 'http.route': '/api/greeting' } }, ROOT_CONTEXT);
      const call = tracer.startSpan('GET', { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'service-b' } }, trace.setSpan(ROOT_CONTEXT, server));
      call.setStatus({ code: SpanStatusCode.ERROR, message: 'timed out' });
      call.end();
      server.end();
    });
    const zipkin = (spans: ReadableSpan[]) =>
      spans.map((s) => {
        const { traceId, id, parentId, timestamp, duration, ...rest } = toZipkinSpan(s, 'service-x', 'otel.status_code', 'error');
        expect([typeof traceId, typeof id, Number.isInteger(timestamp), Number.isInteger(duration)]).toEqual(['string', 'string', true, true]);
        return { ...rest, hasParent: parentId !== undefined };
      });
    expect(zipkin(raw.ours)).toEqual(zipkin(raw.sdk));
    const otlp = (spans: ReadableSpan[]) => {
      const request = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans))) as {
        resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
      };
      return request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map(({ traceId, spanId, parentSpanId, startTimeUnixNano, endTimeUnixNano, ...rest }) => ({ ...rest, hasParent: parentSpanId !== undefined }))));
    };
    expect(otlp(raw.ours)).toEqual(otlp(raw.sdk));
  });
});

describe('times and ids', () => {
  test('a span starts on the wall clock and lasts what the monotonic clock measured; an end before the start is a zero duration', async () => {
    const { ours, oursSpans } = both();
    const before = Date.now();
    const span = ours.startSpan('x', {}, ROOT_CONTEXT);
    const after = Date.now();
    await Bun.sleep(20);
    span.end();
    const early = ours.startSpan('early', {}, ROOT_CONTEXT);
    early.end(Date.now() - 60_000);
    const [timed, clamped] = oursSpans.getFinishedSpans();
    const ms = ([s, ns]: [number, number]) => s * 1000 + ns / 1e6;
    expect(ms(timed!.startTime)).toBeGreaterThanOrEqual(before);
    // The wall clock the span reads and Date.now() may differ by a millisecond or two (a time origin plus a monotonic reading).
    expect(ms(timed!.startTime)).toBeLessThanOrEqual(after + 5);
    expect(ms(timed!.duration)).toBeGreaterThanOrEqual(19);
    expect(ms(timed!.endTime) - ms(timed!.startTime)).toBeCloseTo(ms(timed!.duration), 3);
    expect(timed!.startTime[1]).toBeLessThan(1e9);
    expect(clamped!.duration).toEqual([0, 0]);
  });

  test('ids are lowercase hex of their length and never all zeros, however the random bytes fall', () => {
    const real = crypto.getRandomValues.bind(crypto);
    let calls = 0;
    // The first refill is all zeros: every id drawn from it would be invalid.
    const spy = spyOn(crypto, 'getRandomValues').mockImplementation(((array: Uint8Array) => (++calls === 1 ? array.fill(0) : real(array))) as never);
    const ids = Array.from({ length: 600 }, (_, i) => randomId(i % 2 ? 8 : 16));
    spy.mockRestore();
    expect(calls).toBeGreaterThanOrEqual(2);
    for (const [i, id] of ids.entries()) {
      expect(id).toMatch(i % 2 ? /^[0-9a-f]{16}$/ : /^[0-9a-f]{32}$/);
      expect(/^0+$/.test(id)).toBe(false);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

