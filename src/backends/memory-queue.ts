/**
 * The embedded queue of the default local run. It can only join roles that live in the same process, which is why the
 * local platform runs all roles in one process unless real servers are given. Semantics follow the RabbitMQ queue:
 * at most `prefetch` unacknowledged deliveries per consumer, requeue redelivers after a delay, dead-letters keep their reason.
 */
import type { Greeting } from '../greeting';
import { ByteFifo } from './byte-fifo';
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
  /** Messages no consumer could take yet, as bytes (byte-fifo.ts says why); a message a consumer can take never waits here. */
  private readonly ready = new Map<string, ByteFifo>();
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
    let waiting = this.ready.get(queue);
    if (!waiting?.length) {
      const consumer = this.consumersOf(queue).find(canTake);
      if (consumer) return this.deliver(queue, consumer, message);
    }
    if (!waiting) this.ready.set(queue, (waiting = new ByteFifo()));
    waiting.push(toFields(message));
    this.dispatch(queue);
  }

  private dispatch(queue: string): void {
    const waiting = this.ready.get(queue);
    if (!waiting) return;
    for (const consumer of this.consumersOf(queue)) {
      while (waiting.length > 0 && canTake(consumer)) this.deliver(queue, consumer, fromFields(waiting.shift()!));
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

function canTake(consumer: Consumer): boolean {
  return !consumer.cancelled && consumer.inFlight < consumer.prefetch;
}

/** A message as the fields of a ByteFifo record: body, id, redelivered, then the headers' names and values in turn. */
function toFields(message: Message): string[] {
  const fields = [message.body, message.messageId, message.redelivered ? '1' : ''];
  for (const name in message.headers) fields.push(name, message.headers[name]!);
  return fields;
}

function fromFields(fields: string[]): Message {
  const headers: Record<string, string> = {};
  for (let i = 3; i < fields.length; i += 2) headers[fields[i]!] = fields[i + 1]!;
  return { body: fields[0]!, messageId: fields[1]!, redelivered: fields[2] === '1', headers };
}
