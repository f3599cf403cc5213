/**
 * Which trace context formats a role reads and writes (OTEL_PROPAGATORS): W3C Trace Context (`tracecontext`, w3c.ts) and B3
 * multi-header (`b3multi`, b3.ts), both by default, so a trace joins whether the mesh's proxies speak B3 (Envoy's Zipkin
 * tracer, Istio's default) or W3C (Envoy's OpenTelemetry tracer) and whatever the app on the other side reads.
 *
 * Reading: each listed format that carries a valid context replaces what an earlier one gave, so the LAST listed wins when
 * both are present and disagree, as in OpenTelemetry's CompositePropagator. They disagree when a proxy between two apps
 * rewrote one format and passed the other on untouched: Istio's sidecars (Zipkin tracer) rewrite B3 only, so the default
 * order `tracecontext,b3multi` lets B3 win and the caller's sidecar span stays the parent; with the mesh on the OpenTelemetry
 * provider (deploy/components/otlp-tracing) Envoy rewrites traceparent, and that component lists `b3multi,tracecontext`.
 *
 * Writing: every propagation header the caller sent is dropped and each listed format is written afresh from the span, so a
 * callee never continues a stale context.
 */
import { ROOT_CONTEXT, trace, type Context, type SpanContext } from '@opentelemetry/api';
import type { PropagatorName } from '../config/otel-env';
import { extractB3, writeB3 } from './b3';
import { TRACING_HEADERS } from './tracing-headers';
import { extractW3C, writeW3C } from './w3c';

export type Propagator = PropagatorName;
export const DEFAULT_PROPAGATORS: readonly Propagator[] = ['tracecontext', 'b3multi'];

/** The headers a format owns: replaced on every call made inside a span, never forwarded as they came. */
export const PROPAGATION_HEADERS: ReadonlySet<string> = new Set(TRACING_HEADERS.filter((h) => h.startsWith('x-b3-') || h === 'traceparent' || h === 'tracestate'));

type Get = (name: string) => string | null | undefined;

/**
 * The caller's context from the listed formats (the last valid one wins), or ROOT_CONTEXT when none carries one. Read from the
 * last format back, stopping at the first valid one: the same answer, and with the default order a B3 caller costs one read.
 */
export function extractContext(get: Get, propagators: readonly Propagator[]): Context {
  for (let i = propagators.length - 1; i >= 0; i--) {
    if (propagators[i] === 'b3multi') {
      const ctx = extractB3(get);
      if (ctx) return ctx;
    } else {
      const ids = extractW3C(get);
      if (ids) return trace.setSpanContext(ROOT_CONTEXT, ids);
    }
  }
  return ROOT_CONTEXT;
}

/**
 * The headers for a call made inside a span: the forwarded ones that no format owns (x-request-id, x-ot-span-context), and
 * the span's own context in each listed format.
 */
export function injectContext(
  ids: SpanContext,
  parentSpanId: string | undefined,
  debug: boolean,
  forwarded: Record<string, string>,
  propagators: readonly Propagator[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in forwarded) if (!PROPAGATION_HEADERS.has(name)) out[name] = forwarded[name]!;
  for (const format of propagators) {
    if (format === 'b3multi') writeB3(out, ids, parentSpanId, debug);
    else writeW3C(out, ids, debug);
  }
  return out;
}
