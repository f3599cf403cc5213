/** Our B3 codec against @opentelemetry/propagator-b3, the reference it replaces on the hot path. */
import { describe, expect, test } from 'bun:test';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { DEBUG, DEFERRED, extractB3 } from './b3';
import { injectContext } from './propagation';

const reference = new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
const TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
const SPAN = 'e457b5a2e4d86bd1';

const CASES: Record<string, Record<string, string>> = {
  'no headers': {},
  sampled: { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' },
  'not sampled': { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' },
  'legacy true': { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'true' },
  'legacy false': { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'false' },
  debug: { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' },
  'debug and sampled': { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1', 'x-b3-sampled': '1' },
  '64-bit trace id': { 'x-b3-traceid': 'a2fb4a1d1a96d312', 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' },
  'with parent': { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': '05e3ac9a4f6e3b90', 'x-b3-sampled': '1' },
  'no span id': { 'x-b3-traceid': TRACE, 'x-b3-sampled': '1' },
  'bad trace id': { 'x-b3-traceid': 'not-hex', 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' },
  'zero trace id': { 'x-b3-traceid': '0'.repeat(32), 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' },
  'bad span id': { 'x-b3-traceid': TRACE, 'x-b3-spanid': 'e457b5', 'x-b3-sampled': '1' },
};

const ours = (headers: Record<string, string>) => extractB3((name) => headers[name]) ?? ROOT_CONTEXT;
/** Injection with B3 alone, as a role configured OTEL_PROPAGATORS=b3multi writes it. */
const injectB3 = (ids: Parameters<typeof injectContext>[0], parent: string | undefined, debug: boolean, forwarded: Record<string, string>) =>
  injectContext(ids, parent, debug, forwarded, ['b3multi']);
const theirs = (headers: Record<string, string>) => reference.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);

describe('B3 extraction agrees with @opentelemetry/propagator-b3', () => {
  for (const [name, headers] of Object.entries(CASES)) {
    test(name, () => {
      expect(trace.getSpanContext(ours(headers))).toEqual(trace.getSpanContext(theirs(headers)));
    });
  }
});

describe('where it deliberately differs', () => {
  test('ids without a decision: the reference says "not sampled", we mark the decision as ours to take', () => {
    const headers = { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN };
    expect(trace.getSpanContext(ours(headers))).toEqual(trace.getSpanContext(theirs(headers)));
    expect(ours(headers).getValue(DEFERRED)).toBe(true);
    for (const decided of ['sampled', 'not sampled', 'debug']) expect(ours(CASES[decided]!).getValue(DEFERRED)).toBeUndefined();
  });

  test('upper-case hex is read as lower case, as Zipkin stores ids', () => {
    const ids = trace.getSpanContext(ours({ 'x-b3-traceid': TRACE.toUpperCase(), 'x-b3-spanid': SPAN.toUpperCase(), 'x-b3-sampled': '1' }));
    expect(ids).toMatchObject({ traceId: TRACE, spanId: SPAN });
  });
});

describe('B3 injection agrees with the reference', () => {
  for (const name of ['sampled', 'not sampled', 'debug', '64-bit trace id']) {
    test(`${name}: same B3 headers after a round trip`, () => {
      const headers = CASES[name]!;
      const fromReference: Record<string, string> = {};
      reference.inject(theirs(headers), fromReference, defaultTextMapSetter);
      const extracted = ours(headers);
      expect(injectB3(trace.getSpanContext(extracted)!, undefined, extracted.getValue(DEBUG) === true, {})).toEqual(fromReference);
    });
  }

  test('replaces forwarded B3 headers, keeps the rest, adds the parent span id when known', () => {
    const forwarded = { 'x-request-id': 'r', 'x-ot-span-context': 'ot', ...CASES['with parent']! };
    const ids = { traceId: TRACE, spanId: '1111111111111111', traceFlags: TraceFlags.SAMPLED };
    expect(injectB3(ids, SPAN, false, forwarded)).toEqual({
      'x-request-id': 'r',
      'x-ot-span-context': 'ot',
      'x-b3-traceid': TRACE,
      'x-b3-spanid': '1111111111111111',
      'x-b3-parentspanid': SPAN,
      'x-b3-sampled': '1',
    });
  });
});
