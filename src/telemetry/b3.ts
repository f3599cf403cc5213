/**
 * B3 multi-header propagation (https://github.com/openzipkin/b3-propagation), what Envoy and Istio use: x-b3-traceid,
 * x-b3-spanid, x-b3-parentspanid, x-b3-sampled, x-b3-flags. Written out rather than taken from @opentelemetry/propagator-b3
 * because it runs on every request of every role: reading each header once and building one Context (the propagator builds
 * several copies, plus one more per injection) was measurably cheaper. b3.test.ts holds it to that propagator's behaviour,
 * plus one deliberate difference: a context without a sampling decision is marked DEFERRED instead of "not sampled".
 * propagation.ts combines it with W3C Trace Context (w3c.ts).
 */
import { createContextKey, isSpanContextValid, isValidSpanId, isValidTraceId, ROOT_CONTEXT, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';

/** Set on a caller's context that carries ids but left the sampling decision to us ("defer": no x-b3-sampled). */
export const DEFERRED = createContextKey('greeting-mesh.b3-sampling-deferred');
/** B3 debug (x-b3-flags: 1): always sampled, and passed on as debug rather than as x-b3-sampled. */
export const DEBUG = createContextKey('greeting-mesh.b3-debug');
export const DEBUG_ROOT = ROOT_CONTEXT.setValue(DEBUG, true);

const SAMPLED_YES = new Set(['1', 'true', 'True']);
const SAMPLED_NO = new Set(['0', 'false', 'False']);

/** The caller's context from B3 headers, or undefined when there is none (or it is malformed). */
export function extractB3(get: (name: string) => string | null | undefined): Context | undefined {
  let traceId = get('x-b3-traceid');
  if (!traceId) return undefined;
  const spanId = get('x-b3-spanid');
  // 64-bit trace ids (older tracers) are left-padded, as Zipkin itself does.
  if (traceId.length === 16) traceId = `0000000000000000${traceId}`;
  if (!spanId || !isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined;
  const debug = get('x-b3-flags') === '1';
  const sampled = get('x-b3-sampled') ?? undefined;
  const yes = debug || (sampled !== undefined && SAMPLED_YES.has(sampled));
  const no = !yes && sampled !== undefined && SAMPLED_NO.has(sampled);
  const ctx = trace.setSpanContext(debug ? DEBUG_ROOT : ROOT_CONTEXT, {
    traceId: traceId.toLowerCase(),
    spanId: spanId.toLowerCase(),
    isRemote: true,
    traceFlags: yes ? TraceFlags.SAMPLED : TraceFlags.NONE,
  });
  return yes || no ? ctx : ctx.setValue(DEFERRED, true);
}

/** Writes a span's B3 headers into `out`: its ids, its parent's id when known, and the decision (or debug). */
export function writeB3(out: Record<string, string>, ids: SpanContext, parentSpanId: string | undefined, debug: boolean): void {
  if (!isSpanContextValid(ids)) return;
  out['x-b3-traceid'] = ids.traceId;
  out['x-b3-spanid'] = ids.spanId;
  if (parentSpanId) out['x-b3-parentspanid'] = parentSpanId;
  // Debug travels as debug; otherwise the decision does, so no hop below decides again.
  if (debug) out['x-b3-flags'] = '1';
  else out['x-b3-sampled'] = ids.traceFlags & TraceFlags.SAMPLED ? '1' : '0';
}
