/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): `traceparent` and `tracestate`, what OpenTelemetry SDKs, Envoy's
 * OpenTelemetry tracer and most collectors speak. Written out beside b3.ts for the same reason: it runs on every request of
 * every role, and one regex and one object are all it takes. w3c.test.ts holds it to @opentelemetry/core's
 * W3CTraceContextPropagator, case by case.
 */
import type { SpanContext } from '@opentelemetry/api';
// The class alone, not @opentelemetry/core's index: that loads the whole package (about 1.5 ms of every start, tracing on or off).
// Its CommonJS build, because the ESM build's directory does not say it is ESM, which Node (the Node bundle) would need.
import { TraceState } from '@opentelemetry/core/build/src/trace/TraceState.js';

/** TraceFlags.SAMPLED. This file is loaded with tracing off too (log.ts reads a caller's trace id), so it takes no API values. */
export const SAMPLED_FLAG = 1;
/** The API's isSpanContextValid: hex ids of their length (either case), not all zeros. */
const VALID_TRACE_ID = /^(?!0{32}$)[\da-fA-F]{32}$/;
const VALID_SPAN_ID = /^(?!0{16}$)[\da-fA-F]{16}$/;
const validIds = (ids: SpanContext) => VALID_TRACE_ID.test(ids.traceId) && VALID_SPAN_ID.test(ids.spanId);

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/**
 * version-traceid-parentid-flags, lower-case hex; version ff and all-zero ids are invalid. Optional whitespace either side, and
 * a tail after the flags only for versions above 00 (a later version may add fields): exactly the reference's grammar.
 */
const TRACEPARENT_SHAPE = /^\s?((?!ff)[\da-f]{2})-((?![0]{32})[\da-f]{32})-((?![0]{16})[\da-f]{16})-([\da-f]{2})(-.*)?\s?$/;

/** The caller's span context from `traceparent` (and `tracestate`), or undefined when there is none or it is malformed. */
export function extractW3C(get: (name: string) => string | null | undefined): SpanContext | undefined {
  const header = get(TRACEPARENT);
  if (!header) return undefined;
  const m = TRACEPARENT_SHAPE.exec(header);
  if (!m || (m[1] === '00' && m[5])) return undefined;
  const ids: SpanContext = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16), isRemote: true };
  // Rare in a mesh, so parsed only when present; the SDK carries it from parent to child span unchanged.
  const state = get(TRACESTATE);
  if (state) ids.traceState = new TraceState(state);
  return ids;
}

/** Writes a span's `traceparent` (and its `tracestate`, when it has one) into `out`. Only the sampled bit travels. */
export function writeW3C(out: Record<string, string>, ids: SpanContext, debug: boolean): void {
  if (!validIds(ids)) return;
  // B3's debug has no W3C twin; it is always sampled, so the callee records it either way.
  const sampled = debug || (ids.traceFlags & SAMPLED_FLAG) === SAMPLED_FLAG;
  out[TRACEPARENT] = `00-${ids.traceId}-${ids.spanId}-${sampled ? '01' : '00'}`;
  const state = ids.traceState?.serialize();
  if (state) out[TRACESTATE] = state;
}
