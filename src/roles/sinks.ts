/**
 * Where a role's own greeting goes besides its answer: a store (C, G, H) or a queue (D). A sink that fails makes the role
 * answer 503 with the reason, so the caller shows this subtree as failed instead of pretending it was stored or sent.
 */
import type { GreetingQueue, GreetingStore } from '../backends/types';
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';
import type { Metrics } from '../telemetry/metrics';
import { tracePublish } from '../telemetry/spans';
import { insertGreeting } from './insert-greeting';
import type { Tracing } from '../telemetry/tracing';

export interface Sink {
  /** Resolves once the greeting is durably handed over; rejects with a reason that is safe to show. */
  accept(greeting: Greeting, headers: Record<string, string>): Promise<void>;
}

export function storeSink(store: GreetingStore, target: StoreTarget, metrics: Metrics, tracing?: Tracing): Sink {
  return {
    async accept(greeting) {
      try {
        await insertGreeting(store, target, greeting, metrics, tracing);
      } catch (err) {
        throw new Error(`cannot store greeting in ${target.database}.${target.collection}: ${(err as Error).message}`);
      }
    },
  };
}

export function publishSink(queue: GreetingQueue, queueName: string, metrics: Metrics, tracing?: Tracing): Sink {
  return {
    async accept(greeting, headers) {
      try {
        await (tracing
          ? tracePublish(tracing, queue.kind, queueName, greeting.id, headers, (carried) => queue.publish(queueName, greeting, carried))
          : queue.publish(queueName, greeting, headers));
        metrics.publish(queueName, 'confirmed');
      } catch (err) {
        metrics.publish(queueName, 'refused');
        throw new Error(`cannot publish greeting to ${queueName}: ${(err as Error).message}`);
      }
    },
  };
}
