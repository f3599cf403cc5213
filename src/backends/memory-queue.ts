/**
 * The embedded queue of the default local run. It can only join roles that live in the same process, which is why the
 * local platform runs all roles in one process unless real servers are given. Semantics follow the RabbitMQ queue:
 * at most `prefetch` unacknowledged deliveries per consumer, requeue redelivers after a delay, dead-letters keep their reason.
 */
import type { Greeting } from '../greeting';
import type { Delivery, Disposition, GreetingQueue, Subscription } from './types';

interface Message {
  body: string;
  headers: Record<string, string>;
  messageId: string;
  redelivered: boolean;
}

interface Consumer {
  prefetch: number;
  inFlight: number;
  handler: (d: Delivery) => Promise<Disposition>;
  cancelled: boolean;
  settled: Set<Promise<void>>;
}

/**
 * Messages a queue holds before publishing is refused. With one process per role and no broker, D's in-memory queue has no
 * consumer: refusing (D answers 503) keeps the process bounded without ever dropping a message it accepted.
 */
export const MEMORY_QUEUE_LIMIT = 10_000;

/** Requeued messages wait this long before redelivery, so a failing dependency is not hammered in a tight loop. */
const REQUEUE_DELAY_MS = 200;

export class MemoryQueue implements GreetingQueue {
  readonly kind = 'memory';
  private readonly ready = new Map<string, Message[]>();
  /** Dead letters by queue, with their reasons; readable, as RabbitMQ's dead-letter queues are. */
  readonly deadLettered = new Map<string, { body: string; reason: string }[]>();
  private readonly consumers = new Map<string, Consumer[]>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly limit = MEMORY_QUEUE_LIMIT) {}

  async connect(): Promise<void> {}

  async publish(queue: string, greeting: Greeting, headers: Record<string, string>): Promise<void> {
    if (this.depth(queue) >= this.limit) throw new Error(`in-memory queue ${queue} is full (${this.limit} messages, no consumer keeping up)`);
    this.put(queue, JSON.stringify(greeting), { ...headers }, greeting.id);
  }

  /** Puts a message on a queue as bytes, the way any publisher's arrive (publish is this, for a greeting). */
  put(queue: string, body: string, headers: Record<string, string> = {}, messageId = ''): void {
    this.enqueue(queue, { body, headers, messageId, redelivered: false });
  }

  async consume(queue: string, prefetch: number, handler: (d: Delivery) => Promise<Disposition>): Promise<Subscription> {
    const consumer: Consumer = { prefetch, inFlight: 0, handler, cancelled: false, settled: new Set() };
    this.consumersOf(queue).push(consumer);
    this.dispatch(queue);
    return {
      cancel: async () => {
        consumer.cancelled = true;
        this.consumers.set(queue, this.consumersOf(queue).filter((c) => c !== consumer));
        await Promise.all(consumer.settled);
      },
    };
  }

  /** Messages waiting for a consumer (not counting deliveries in flight). */
  depth(queue: string): number {
    return this.ready.get(queue)?.length ?? 0;
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const all = [...this.consumers.values()].flat();
    for (const c of all) c.cancelled = true;
    this.consumers.clear();
    await Promise.all(all.flatMap((c) => [...c.settled]));
  }

  private consumersOf(queue: string): Consumer[] {
    let list = this.consumers.get(queue);
    if (!list) this.consumers.set(queue, (list = []));
    return list;
  }

  private enqueue(queue: string, message: Message): void {
    let list = this.ready.get(queue);
    if (!list) this.ready.set(queue, (list = []));
    list.push(message);
    this.dispatch(queue);
  }

  private dispatch(queue: string): void {
    const waiting = this.ready.get(queue);
    for (const consumer of this.consumersOf(queue)) {
      while (waiting && waiting.length > 0 && !consumer.cancelled && consumer.inFlight < consumer.prefetch) {
        this.deliver(queue, consumer, waiting.shift()!);
      }
    }
  }

  private deliver(queue: string, consumer: Consumer, message: Message): void {
    consumer.inFlight++;
    const settled: Promise<void> = consumer
      .handler({ body: message.body, headers: message.headers, messageId: message.messageId || undefined, redelivered: message.redelivered })
      .catch((err: unknown): Disposition => ({ action: 'requeue', reason: String(err) }))
      .then((disposition) => {
        if (disposition.action === 'requeue') {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            this.enqueue(queue, { ...message, redelivered: true });
          }, REQUEUE_DELAY_MS);
          this.timers.add(timer);
        } else if (disposition.action === 'dead-letter') {
          let list = this.deadLettered.get(queue);
          if (!list) this.deadLettered.set(queue, (list = []));
          list.push({ body: message.body, reason: disposition.reason });
        }
      })
      .finally(() => {
        consumer.inFlight--;
        consumer.settled.delete(settled);
        this.dispatch(queue);
      });
    consumer.settled.add(settled);
  }
}
