/**
 * The work every inbound request gets, whatever server took it (HTTP or gRPC): its tracing headers checked (malformed ones
 * dropped, a missing request id added, so every hop's log lines for one call share it), a log context for every line it
 * writes, and, with tracing on, a SERVER span that continues the caller's trace. The server says how its protocol names the
 * request and what its result means; the rest is here, once.
 */
import type { Attributes, Span } from '@opentelemetry/api';
import { contextFromHeaders, requestContext, type RequestContext } from '../telemetry/log';
import { takeTracingHeaders, type HeaderBag, type IgnoredHeader } from '../telemetry/tracing-headers';
import { failSpan, isSampled, type Tracing } from '../telemetry/tracing';
import { takeRoutingHeaders, type IgnoredRoutingHeader } from './routing-headers';

export interface Inbound {
  /** The request's headers (or metadata); what cannot be forwarded is dropped from them here. */
  headers: HeaderBag;
  /** The SERVER span's name until the server knows better (it may rename it once it has matched a route). */
  spanName: string;
  attributes: Attributes;
  /** Probes and scrapes are not traced: every few seconds per pod, they would bury the traces anyone looks for. */
  traced: boolean;
}

/** What a server learns about its request while serving it; `route` is the server's to fill (metrics label by it). */
export interface RequestScope extends RequestContext {
  requestId: string;
  /** The tracing and routing headers to pass on to upstreams (a traced transport replaces the B3 ones with its span's). */
  forward: Record<string, string>;
  ignored: (IgnoredHeader | IgnoredRoutingHeader)[];
  route?: string;
  /** The server's answer already names the request id (set with its other headers: one header write less per request). */
  idAnswered?: boolean;
  /** The request's SERVER span, when it is traced. */
  span?: Span;
}

/** How a finished request went, in the server's terms: a failure marks the span failed (5xx, a gRPC error). */
export interface Verdict {
  failure?: { reason: string; type: string };
  attributes?: Attributes;
}

/** Runs `work` as one request; resolves with its result, what was learnt about the request, and how long it took. */
export async function serveRequest<T>(
  tracing: Tracing | undefined,
  inbound: Inbound,
  work: (scope: RequestScope) => Promise<T>,
  verdict: (result: T) => Verdict,
): Promise<{ result: T; scope: RequestScope; seconds: number }> {
  const started = performance.now();
  const { headers } = inbound;
  const { forward, ignored: tracingIgnored } = takeTracingHeaders(headers);
  const routingIgnored = takeRoutingHeaders(headers, forward);
  const ignored = routingIgnored.length === 0 ? tracingIgnored : [...tracingIgnored, ...routingIgnored];
  let requestId = forward['x-request-id'];
  if (!requestId) {
    requestId = crypto.randomUUID();
    headers.set('x-request-id', requestId);
    forward['x-request-id'] = requestId;
  }

  if (!tracing || !inbound.traced) {
    // Log lines carry the caller's trace id, an Envoy sidecar's typically; none is made up: an id that no collector records
    // would be a dead link in the UI.
    // The forwarded headers are the well-formed ones: a malformed traceparent never names a log line's trace.
    const scope: RequestScope = { ...contextFromHeaders(requestId, (name) => forward[name]), requestId, forward, ignored };
    const result = await requestContext.run(scope, () => work(scope));
    return { result, scope, seconds: (performance.now() - started) / 1000 };
  }

  const { span, ctx } = tracing.startServer(headers, inbound.spanName, { ...inbound.attributes, 'guid:x-request-id': requestId });
  const ids = span.spanContext();
  const scope: RequestScope = { requestId, traceId: ids.traceId, spanId: ids.spanId, forward, ignored, span };
  if (isSampled(span)) scope.recordedTrace = ids.traceId;
  let result: T;
  try {
    result = await tracing.within(ctx, () => requestContext.run(scope, () => work(scope)));
  } catch (err) {
    failSpan(span, (err as Error).message, 'error');
    span.end();
    throw err;
  }
  const { failure, attributes } = verdict(result);
  if (attributes) span.setAttributes(attributes);
  if (failure) failSpan(span, failure.reason, failure.type);
  span.end();
  return { result, scope, seconds: (performance.now() - started) / 1000 };
}

/**
 * Tells the request being served which route it matched: the metrics label, and the SERVER span's name and `http.route`.
 * Called from inside the work (a route's handler), where the request's scope is the active context.
 */
export function matchedRoute(route: string, spanName: string, attributes: Attributes): void {
  const scope = requestContext.getStore() as RequestScope | undefined;
  if (!scope) return;
  scope.route = route;
  // Tracing off, or an untraced path: there is none.
  const { span } = scope;
  if (span) {
    span.updateName(spanName);
    span.setAttributes(attributes);
  }
}
