/**
 * Where a role's own greeting goes besides its answer: a store (C, G, H) or a queue (D). A sink that fails makes the role
 * answer "refused" with the reason, so the caller shows this subtree as failed instead of pretending it was stored or sent.
 */
import type { GreetingQueue, GreetingStore } from '../backends/types';
import { collectionName } from '../config/facts';
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';

export interface Sink {
  /** Resolves once the greeting is durably handed over; rejects with a reason that is safe to show. */
  accept(greeting: Greeting, headers: Record<string, string>): Promise<void>;
}

export function storeSink(store: GreetingStore, target: StoreTarget): Sink {
  return {
    async accept(greeting) {
      try {
        await store.insert(target, greeting);
      } catch (err) {
        throw new Error(`cannot store greeting in ${collectionName(target)}: ${(err as Error).message}`);
      }
    },
  };
}

export function publishSink(queue: GreetingQueue, queueName: string): Sink {
  return {
    async accept(greeting, headers) {
      try {
        await queue.publish(queueName, greeting, headers);
      } catch (err) {
        throw new Error(`cannot publish greeting to ${queueName}: ${(err as Error).message}`);
      }
    },
  };
}
