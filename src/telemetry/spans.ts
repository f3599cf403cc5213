/**
 * The spans this service makes, named and tagged after the OpenTelemetry semantic conventions in one place: a SERVER span
 * per request, a CLIENT span per upstream call and per store operation, a PRODUCER span per publish and a CONSUMER span per
 * message handled. Callers test for tracing first, so with tracing off none of this runs and no closure is made for it; only
 * traceConsume takes `undefined`, because a message gets its log context either way.
 */
import { context, SpanKind, TraceFlags, type Span } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { Delivery, Disposition } from '../backends/types';
import type { StoreTarget } from '../config/schema';
import type { UpstreamAnswer, UpstreamCall } from '../transport/upstream';
import { contextFromB3, requestContext } from './log';
import { failSpan, type Scope, type Tracing } from './tracing';

/** Incubating conventions (peer, messaging) are spelled out: their constants may move between releases. */
const ATTR_PEER_SERVICE = 'peer.service';
const ATTR_MESSAGING_SYSTEM = 'messaging.system';
const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
/** The tag Envoy puts the request id in, so our spans and the sidecar's can be searched by the same key. */
const ATTR_REQUEST_ID = 'guid:x-request-id';

export function isSampled(span: Span): boolean {
  return (span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** SERVER span of one inbound request, named by route template (never the raw URL, which would explode the span names). */
export function startServerSpan(tracing: Tracing, request: Request, route: string, path: string, requestId: string): Scope {
  return tracing.startServer(request.headers, `${request.method} ${route}`, {
    [ATTR_HTTP_REQUEST_METHOD]: request.method,
    [ATTR_HTTP_ROUTE]: route,
    [ATTR_URL_PATH]: path,
    [ATTR_REQUEST_ID]: requestId,
  });
}

/** A server answer is an error span only at 5xx: a 4xx is the caller's mistake, not this role's failure. */
export function endServerSpan(span: Span, status: number): void {
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 500) failSpan(span, `answered ${status}`, String(status));
  span.end();
}

/** CLIENT span around one upstream call; the callee receives this span's B3 context. */
export async function traceUpstreamCall(
  tracing: Tracing,
  call: UpstreamCall,
  send: (call: UpstreamCall) => Promise<UpstreamAnswer>,
): Promise<UpstreamAnswer> {
  const { upstream } = call;
  const span = tracing.startChild('GET /api/greeting', SpanKind.CLIENT, {
    [ATTR_HTTP_REQUEST_METHOD]: 'GET',
    [ATTR_URL_FULL]: `${upstream.url}/api/greeting`,
    [ATTR_PEER_SERVICE]: `service-${upstream.id}`,
  });
  try {
    const answer = await send({ ...call, headers: tracing.headersFor(span, call.headers) });
    if (answer.outcome === 'failed') {
      if (/^\d+$/.test(answer.failure)) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, Number(answer.failure));
      failSpan(span, answer.reason, answer.failure);
    } else {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, answer.status);
      if (answer.outcome === 'partial') failSpan(span, `answered ${answer.status} with a partial subtree`, String(answer.status));
    }
    return answer;
  } catch (err) {
    failSpan(span, (err as Error).message, 'error');
    throw err;
  } finally {
    span.end();
  }
}

/** CLIENT span around one store operation (MongoDB, or the embedded store in a local run). */
export function traceStoreOperation<T>(tracing: Tracing, system: string, target: StoreTarget, operation: string, run: () => Promise<T>): Promise<T> {
  const span = tracing.startChild(`${operation} ${target.collection}`, SpanKind.CLIENT, {
    [ATTR_DB_SYSTEM_NAME]: system,
    [ATTR_DB_NAMESPACE]: target.database,
    [ATTR_DB_COLLECTION_NAME]: target.collection,
    [ATTR_DB_OPERATION_NAME]: operation,
  });
  return within(span, run);
}

/** PRODUCER span around one publish; the message carries this span's B3 context in its headers, so the consumer joins the trace. */
export function tracePublish(
  tracing: Tracing,
  system: string,
  queue: string,
  messageId: string,
  headers: Record<string, string>,
  publish: (headers: Record<string, string>) => Promise<void>,
): Promise<void> {
  const span = tracing.startChild(`publish ${queue}`, SpanKind.PRODUCER, {
    [ATTR_MESSAGING_SYSTEM]: system,
    [ATTR_MESSAGING_DESTINATION_NAME]: queue,
    [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
    [ATTR_MESSAGING_MESSAGE_ID]: messageId,
  });
  return within(span, () => publish(tracing.headersFor(span, headers)));
}

/**
 * Handles one message in its own log context and, with tracing on, inside a CONSUMER span under the producer's span. The log
 * context is set either way: the in-memory queue delivers synchronously inside the publisher's request, whose ids must not
 * leak into the consumer's log lines.
 */
export function traceConsume(
  tracing: Tracing | undefined,
  system: string,
  queue: string,
  delivery: Delivery,
  handle: () => Promise<Disposition>,
): Promise<Disposition> {
  const requestId = delivery.headers['x-request-id'];
  if (!tracing) {
    return requestContext.run(contextFromB3(requestId, (name) => delivery.headers[name]), handle);
  }
  const { span, ctx } = tracing.startConsumer(delivery.headers, `process ${queue}`, {
    [ATTR_MESSAGING_SYSTEM]: system,
    [ATTR_MESSAGING_DESTINATION_NAME]: queue,
    [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
    ...(delivery.messageId ? { [ATTR_MESSAGING_MESSAGE_ID]: delivery.messageId } : {}),
    // Ours, not a semantic convention (nor greeting.disposition below): whether the message came round again.
    'greeting.redelivered': delivery.redelivered,
  });
  const ids = span.spanContext();
  const run = () => requestContext.run({ requestId, traceId: ids.traceId, spanId: ids.spanId }, handle);
  return context.with(ctx, run).then(
    (disposition) => {
      span.setAttribute('greeting.disposition', disposition.action);
      if (disposition.action !== 'ack') failSpan(span, disposition.reason, disposition.action);
      span.end();
      return disposition;
    },
    (err: unknown) => {
      failSpan(span, (err as Error).message, 'error');
      span.end();
      throw err;
    },
  );
}

async function within<T>(span: Span, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    failSpan(span, (err as Error).message, 'error');
    throw err;
  } finally {
    span.end();
  }
}
