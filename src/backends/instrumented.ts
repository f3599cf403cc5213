/**
 * Telemetry around any store and queue, put on once where a role is assembled: latency and results per collection, published
 * and consumed counts per queue, and, with tracing on, a CLIENT span per store operation, a PRODUCER span per publish (its
 * context travels in the message headers) and a CONSUMER span per message handled, under the producer's. Every message is
 * handled in its own log context, traced or not. Behaviour code calls the plain interfaces.
 */
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
} from '@opentelemetry/semantic-conventions';
import { collectionName } from '../config/facts';
import { contextFromHeaders, requestContext } from '../telemetry/log';
import type { Metrics } from '../telemetry/metrics';
import { failSpan, isSampled, SPAN_KIND, type Tracing } from '../telemetry/tracing';
import type { Delivery, DeliveryHandler, Disposition, GreetingQueue, GreetingStore } from './types';

/** Incubating conventions (messaging) are spelled out: their constants may move between releases. */
const ATTR_MESSAGING_SYSTEM = 'messaging.system';
const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';

export interface Telemetry {
  metrics: Metrics;
  /** Absent when tracing is off. */
  tracing?: Tracing;
}

/** Runs `work` inside `span`, marking it failed when `work` rejects, and ending it either way. */
async function inSpan<T>(span: ReturnType<Tracing['startChild']>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    failSpan(span, (err as Error).message, 'error');
    throw err;
  } finally {
    span.end();
  }
}

export function instrumentStore(store: GreetingStore, { metrics, tracing }: Telemetry): GreetingStore {
  return {
    kind: store.kind,
    connect: () => store.connect(),
    isReady: () => store.isReady(),
    notReadyReason: () => store.notReadyReason?.(),
    close: () => store.close(),
    async insert(target, greeting) {
      const collection = collectionName(target);
      const started = performance.now();
      const insert = () => store.insert(target, greeting);
      try {
        const outcome = await (tracing
          ? inSpan(
              tracing.startChild(`insert ${target.collection}`, SPAN_KIND.CLIENT, {
                [ATTR_DB_SYSTEM_NAME]: store.kind,
                [ATTR_DB_NAMESPACE]: target.database,
                [ATTR_DB_COLLECTION_NAME]: target.collection,
                [ATTR_DB_OPERATION_NAME]: 'insert',
              }),
              insert,
            )
          : insert());
        metrics.storeOperation(collection, 'insert', outcome === 'stored' ? 'ok' : 'duplicate', (performance.now() - started) / 1000);
        return outcome;
      } catch (err) {
        metrics.storeOperation(collection, 'insert', 'error', (performance.now() - started) / 1000);
        throw err;
      }
    },
  };
}

export function instrumentQueue(queue: GreetingQueue, { metrics, tracing }: Telemetry): GreetingQueue {
  return {
    kind: queue.kind,
    connect: () => queue.connect(),
    isReady: () => queue.isReady(),
    notReadyReason: () => queue.notReadyReason?.(),
    close: () => queue.close(),
    async publish(name, greeting, headers) {
      try {
        if (!tracing) await queue.publish(name, greeting, headers);
        else {
          const span = tracing.startChild(`publish ${name}`, SPAN_KIND.PRODUCER, {
            [ATTR_MESSAGING_SYSTEM]: queue.kind,
            [ATTR_MESSAGING_DESTINATION_NAME]: name,
            [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
            [ATTR_MESSAGING_MESSAGE_ID]: greeting.id,
          });
          await inSpan(span, () => queue.publish(name, greeting, tracing.headersFor(span, headers)));
        }
        metrics.publish(name, 'confirmed');
      } catch (err) {
        metrics.publish(name, 'refused');
        throw err;
      }
    },
    consume(name, prefetch, handler) {
      return queue.consume(name, prefetch, tracedHandler(queue.kind, name, handler, { metrics, tracing }));
    },
  };
}

const COUNTED: Record<Disposition['action'], 'acked' | 'requeued' | 'dead_lettered'> = { ack: 'acked', requeue: 'requeued', 'dead-letter': 'dead_lettered' };

/**
 * Each message in its own log context and, traced, inside a CONSUMER span under the producer's span. The log context is set
 * either way: the in-memory queue delivers synchronously inside the publisher's request, whose ids must not leak into the
 * consumer's log lines.
 */
function tracedHandler(system: string, queue: string, handler: DeliveryHandler, { metrics, tracing }: Telemetry): DeliveryHandler {
  const count = (disposition: Disposition) => {
    metrics.consume(queue, COUNTED[disposition.action]);
    return disposition;
  };
  return (delivery: Delivery) => {
    const requestId = delivery.headers['x-request-id'];
    if (!tracing) return requestContext.run(contextFromHeaders(requestId, (name) => delivery.headers[name]), () => handler(delivery)).then(count);
    const { span, ctx } = tracing.startConsumer(delivery.headers, `process ${queue}`, {
      [ATTR_MESSAGING_SYSTEM]: system,
      [ATTR_MESSAGING_DESTINATION_NAME]: queue,
      [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
      ...(delivery.messageId ? { [ATTR_MESSAGING_MESSAGE_ID]: delivery.messageId } : {}),
      // Ours, not a semantic convention (nor greeting.disposition below): whether the message came round again.
      'greeting.redelivered': delivery.redelivered,
    });
    const ids = span.spanContext();
    const recordedTrace = isSampled(span) ? ids.traceId : undefined;
    const run = () => requestContext.run({ requestId, traceId: ids.traceId, spanId: ids.spanId, recordedTrace }, () => handler(delivery));
    return tracing.within(ctx, run).then(
      (disposition) => {
        span.setAttribute('greeting.disposition', disposition.action);
        if (disposition.action !== 'ack') failSpan(span, disposition.reason, disposition.action);
        span.end();
        return count(disposition);
      },
      (err: unknown) => {
        failSpan(span, (err as Error).message, 'error');
        span.end();
        throw err;
      },
    );
  };
}
