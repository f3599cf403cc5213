/**
 * F's behaviour: take greetings off the queue and store each exactly once. A message is acknowledged only after the store
 * accepted it (or already had it: redelivery after a crash is harmless thanks to the unique id); a store failure requeues it;
 * a message that can never succeed goes to the dead-letter queue with its reason, and consumption goes on.
 */
import type { Delivery, DeliveryHandler, Disposition, GreetingQueue, GreetingStore, Subscription } from '../backends/types';
import { collectionName } from '../config/facts';
import type { StoreTarget } from '../config/schema';
import { greetingProblem, type Greeting } from '../greeting';
import type { Logger } from '../telemetry/log';

export interface ConsumeOptions {
  queue: string;
  prefetch: number;
  store: StoreTarget;
}

export function handleDelivery(store: GreetingStore, options: ConsumeOptions, log: Logger): DeliveryHandler {
  const collection = collectionName(options.store);
  const settle = (disposition: Disposition): Disposition => {
    if (disposition.action === 'requeue') log.warn('message requeued', { reason: disposition.reason });
    else if (disposition.action === 'dead-letter') log.error('message dead-lettered', { reason: disposition.reason });
    return disposition;
  };
  return async (delivery: Delivery) => {
    let greeting: unknown;
    try {
      greeting = JSON.parse(delivery.body);
    } catch (err) {
      return settle({ action: 'dead-letter', reason: `body is not JSON: ${(err as Error).message}` });
    }
    const problem = greetingProblem(greeting);
    if (problem) return settle({ action: 'dead-letter', reason: `not a greeting: ${problem}` });
    try {
      const outcome = await store.insert(options.store, greeting as Greeting);
      if (outcome === 'duplicate') log.info('duplicate delivery acknowledged', { id: (greeting as Greeting).id });
      return settle({ action: 'ack' });
    } catch (err) {
      return settle({ action: 'requeue', reason: `cannot store in ${collection}: ${(err as Error).message}` });
    }
  };
}

export function consumeGreetings(queue: GreetingQueue, store: GreetingStore, options: ConsumeOptions, log: Logger): Promise<Subscription> {
  return queue.consume(options.queue, options.prefetch, handleDelivery(store, options, log));
}
