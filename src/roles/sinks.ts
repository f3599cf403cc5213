/**
 * Where a role's own greeting goes besides its answer: a store (C, G, H) or a queue (D). A sink that fails makes the role
 * answer 503 with the reason, so the caller shows this subtree as failed instead of pretending it was stored or sent.
 */
import type { GreetingQueue, GreetingStore } from '../backends/types';
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';
import type { Metrics } from '../telemetry/metrics';
import { tracePublish, traceStoreOperation } from '../telemetry/spans';
import type { Tracing } from '../telemetry/tracing';

export interface Sink {
  /** What the sink does, for the error message ("store", "publish"). */
  readonly name: string;
  /** Resolves once the greeting is durably handed over; rejects with a reason that is safe to show. */
  accept(greeting: Greeting, headers: Record<string, string>): Promise<void>;
}

export class SinkError extends Error {}

export function storeSink(store: GreetingStore, target: StoreTarget, metrics: Metrics, tracing?: Tracing): Sink {
  const collection = `${target.database}.${target.collection}`;
  return {
    name: 'store',
    async accept(greeting) {
      const started = performance.now();
      try {
        const outcome = await (tracing
          ? traceStoreOperation(tracing, store.kind, target, 'insert', () => store.insert(target, greeting))
          : store.insert(target, greeting));
        metrics.storeOperation(collection, 'insert', outcome === 'stored' ? 'ok' : 'duplicate', (performance.now() - started) / 1000);
      } catch (err) {
        metrics.storeOperation(collection, 'insert', 'error', (performance.now() - started) / 1000);
        throw new SinkError(`cannot store greeting in ${collection}: ${(err as Error).message}`);
      }
    },
  };
}

export function publishSink(queue: GreetingQueue, queueName: string, metrics: Metrics, tracing?: Tracing): Sink {
  return {
    name: 'publish',
    async accept(greeting, headers) {
      try {
        await (tracing
          ? tracePublish(tracing, queue.kind, queueName, greeting.id, headers, (carried) => queue.publish(queueName, greeting, carried))
          : queue.publish(queueName, greeting, headers));
        metrics.publish(queueName, 'confirmed');
      } catch (err) {
        metrics.publish(queueName, 'refused');
        throw new SinkError(`cannot publish greeting to ${queueName}: ${(err as Error).message}`);
      }
    },
  };
}
