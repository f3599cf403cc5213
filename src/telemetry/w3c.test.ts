/**
 * Our W3C Trace Context codec against @opentelemetry/core's W3CTraceContextPropagator, the reference it replaces on the hot
 * path, and the two formats together against OpenTelemetry's CompositePropagator (the same precedence: the last wins).
 */
import { describe, expect, test } from 'bun:test';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { CompositePropagator, TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { extractContext, injectContext } from './propagation';
import { extractW3C } from './w3c';

const reference = new W3CTraceContextPropagator();
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const tp = (flags: string, trace = TRACE, span = SPAN, version = '00') => `${version}-${trace}-${span}-${flags}`;

const CASES: Record<string, Record<string, string>> = {
  'no headers': {},
  sampled: { traceparent: tp('01') },
  'not sampled': { traceparent: tp('00') },
  'other flags set': { traceparent: tp('03') },
  'with tracestate': { traceparent: tp('01'), tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' },
  'tracestate without traceparent': { tracestate: 'rojo=00f067aa0ba902b7' },
  'a future version with more fields': { traceparent: `${tp('01', TRACE, SPAN, 'cc')}-what-the-future-holds` },
  'version 00 with more fields': { traceparent: `${tp('01')}-extra` },
  'version ff': { traceparent: tp('01', TRACE, SPAN, 'ff') },
  'upper-case hex': { traceparent: tp('01', TRACE.toUpperCase()) },
  'zero trace id': { traceparent: tp('01', '0'.repeat(32)) },
  'zero span id': { traceparent: tp('01', TRACE, '0'.repeat(16)) },
  'short trace id': { traceparent: tp('01', TRACE.slice(2)) },
  'flags not hex': { traceparent: tp('zz') },
  'surrounding space': { traceparent: ` ${tp('01')} ` },
  garbage: { traceparent: 'not a traceparent' },
};

const ours = (headers: Record<string, string>) => extractW3C((name) => headers[name]);
const theirs = (headers: Record<string, string>) => trace.getSpanContext(reference.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
/** TraceState instances compared by what they say, not by how lazily they parsed it. */
const comparable = (ids: ReturnType<typeof ours>) => ids && { ...ids, traceState: ids.traceState?.serialize() };

describe('W3C extraction agrees with W3CTraceContextPropagator', () => {
  for (const [name, headers] of Object.entries(CASES)) {
    test(name, () => {
      expect(comparable(ours(headers))).toEqual(comparable(theirs(headers)));
    });
  }
});

describe('W3C injection agrees with the reference', () => {
  for (const name of ['sampled', 'not sampled', 'with tracestate']) {
    test(`${name}: same headers after a round trip`, () => {
      const fromReference: Record<string, string> = {};
      reference.inject(reference.extract(ROOT_CONTEXT, CASES[name]!, defaultTextMapGetter), fromReference, defaultTextMapSetter);
      expect(injectContext(ours(CASES[name]!)!, undefined, false, {}, ['tracecontext'])).toEqual(fromReference);
    });
  }

  test('where it deliberately differs: only the sampled flag travels (W3C: unknown flags are not passed on)', () => {
    const ids = { traceId: TRACE, spanId: SPAN, traceFlags: 0x03 };
    expect(injectContext(ids, undefined, false, {}, ['tracecontext']).traceparent).toBe(tp('01'));
  });

  test('B3 debug has no W3C twin: it travels as sampled', () => {
    const ids = { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.NONE };
    expect(injectContext(ids, undefined, true, {}, ['tracecontext']).traceparent).toBe(tp('01'));
  });

  test('a tracestate is written only with its traceparent, as the span carries it', () => {
    const ids = { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, traceState: new TraceState('a=1') };
    expect(injectContext(ids, undefined, false, { tracestate: 'stale=1' }, ['tracecontext'])).toEqual({ traceparent: tp('01'), tracestate: 'a=1' });
    expect(injectContext(ids, undefined, false, { tracestate: 'stale=1' }, ['b3multi']).tracestate).toBeUndefined();
  });
});

describe('both formats, as OpenTelemetry composes them', () => {
  const composite = new CompositePropagator({ propagators: [reference, new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER })] });
  const B3_TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
  const b3 = (sampled: string, traceId = B3_TRACE) => ({ 'x-b3-traceid': traceId, 'x-b3-spanid': 'e457b5a2e4d86bd1', 'x-b3-sampled': sampled });
  const MIXED: Record<string, Record<string, string>> = {
    'W3C only': { traceparent: tp('01') },
    'B3 only': b3('1'),
    'both, the same trace, different parents (a sidecar rewrote one)': { traceparent: tp('01', B3_TRACE), ...b3('1') },
    'both, different traces': { traceparent: tp('01'), ...b3('1') },
    'both, different decisions': { traceparent: tp('00', B3_TRACE), ...b3('1') },
    'B3 malformed, W3C fine': { traceparent: tp('01'), ...b3('1', 'not-hex') },
    'W3C malformed, B3 fine': { traceparent: 'garbage', ...b3('0') },
  };
  for (const [name, headers] of Object.entries(MIXED)) {
    test(`${name}: tracecontext,b3multi reads what CompositePropagator([W3C, B3]) reads`, () => {
      const expected = trace.getSpanContext(composite.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
      const got = trace.getSpanContext(extractContext((h) => headers[h], ['tracecontext', 'b3multi']));
      expect(got).toEqual(expected);
    });
  }
});
