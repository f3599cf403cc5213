/**
 * F's behaviour: take greetings off the queue and store each exactly once. A message is acknowledged only after the store
 * accepted it (or already had it: redelivery after a crash is harmless thanks to the unique id); a store failure requeues it;
 * a message that can never succeed goes to the dead-letter queue with its reason, and consumption goes on.
 */
import type { Delivery, Disposition, GreetingQueue, GreetingStore, Subscription } from '../backends/types';
import type { StoreTarget } from '../config/schema';
import { greetingProblem, type Greeting } from '../greeting';
import type { Logger } from '../telemetry/log';
import type { Metrics } from '../telemetry/metrics';
import { traceConsume } from '../telemetry/spans';
import type { Tracing } from '../telemetry/tracing';
import { insertGreeting } from './insert-greeting';

export interface ConsumeOptions {
  queue: string;
  prefetch: number;
  store: StoreTarget;
}

/** Where a traced consumer's spans go, and what messaging system they name. */
export interface ConsumeTracing {
  tracing: Tracing;
  system: string;
}

export function handleDelivery(store: GreetingStore, options: ConsumeOptions, metrics: Metrics, log: Logger, traced?: ConsumeTracing) {
  const collection = `${options.store.database}.${options.store.collection}`;
  const tracing = traced?.tracing;
  const system = traced?.system ?? 'unknown';
  // Every message is handled in its own log context (and, traced, inside a CONSUMER span under the publisher's span).
  return (delivery: Delivery): Promise<Disposition> => traceConsume(tracing, system, options.queue, delivery, () => handle(delivery));

  async function handle(delivery: Delivery): Promise<Disposition> {
    let greeting: unknown;
    try {
      greeting = JSON.parse(delivery.body);
    } catch (err) {
      return settle({ action: 'dead-letter', reason: `body is not JSON: ${(err as Error).message}` });
    }
    const problem = greetingProblem(greeting);
    if (problem) return settle({ action: 'dead-letter', reason: `not a greeting: ${problem}` });
    try {
      const outcome = await insertGreeting(store, options.store, greeting as Greeting, metrics, tracing);
      if (outcome === 'duplicate') log.info('duplicate delivery acknowledged', { id: (greeting as Greeting).id });
      return settle({ action: 'ack' });
    } catch (err) {
      return settle({ action: 'requeue', reason: `cannot store in ${collection}: ${(err as Error).message}` });
    }
  }

  function settle(disposition: Disposition): Disposition {
    if (disposition.action === 'ack') metrics.consume(options.queue, 'acked');
    else if (disposition.action === 'requeue') {
      metrics.consume(options.queue, 'requeued');
      log.warn('message requeued', { reason: disposition.reason });
    } else {
      metrics.consume(options.queue, 'dead_lettered');
      log.error('message dead-lettered', { reason: disposition.reason });
    }
    return disposition;
  }
}

export function consumeGreetings(
  queue: GreetingQueue,
  store: GreetingStore,
  options: ConsumeOptions,
  metrics: Metrics,
  log: Logger,
  tracing?: Tracing,
): Promise<Subscription> {
  const traced = tracing ? { tracing, system: queue.kind } : undefined;
  return queue.consume(options.queue, options.prefetch, handleDelivery(store, options, metrics, log, traced));
}
