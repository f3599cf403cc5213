/**
 * GreetingQueue on RabbitMQ, assembled from its parts: the connection that comes back after every broker restart
 * (connection.ts), the topology it declares (topology.ts), publisher confirms (confirms.ts) and the consumers
 * (consumers.ts). A broker restart costs readiness for a while, never the consumer; nothing confirmed is lost.
 */
import type { Greeting } from '../../greeting';
import type { BackendLog, DeliveryHandler, GreetingQueue, Subscription } from '../types';
import { BrokerConnection, withHeartbeat, type Backoff } from './connection';
import { Confirms } from './confirms';
import { Consumers } from './consumers';
import { QueueUnavailableError } from './errors';

export { QueueUnavailableError, queueConflict } from './errors';
export { DEATH_REASON_HEADER, deadLetterExchange, deadLetterQueue } from './topology';

export interface RabbitQueueOptions {
  /** How long publish() waits for the broker's confirm before rejecting (the publisher must answer while its caller waits). */
  confirmTimeoutMs?: number;
  /** How long connect() waits for the first connection before rejecting; reconnecting goes on in the background either way. */
  connectTimeoutMs?: number;
  /** Delay between connection attempts: doubles from initialMs up to maxMs, with ±20% jitter so replicas do not retry in step. */
  reconnect?: Backoff;
  /** Delay before a message the handler asked to requeue goes back: doubles per retry of the same message, up to maxMs. */
  requeue?: Backoff;
  log?: BackendLog;
}

export class RabbitQueue implements GreetingQueue {
  readonly kind = 'rabbitmq' as const;
  private readonly connection: BrokerConnection;
  private readonly confirms: Confirms;
  private readonly consumers: Consumers;
  /** Every queue this process used: declared again on each new session before it is used. */
  private readonly queues = new Set<string>();

  constructor(url: string, options: RabbitQueueOptions = {}) {
    this.connection = new BrokerConnection(
      withHeartbeat(url),
      { connectTimeoutMs: options.connectTimeoutMs ?? 10_000, reconnect: options.reconnect ?? { initialMs: 100, maxMs: 5_000 }, log: options.log },
      {
        prepare: (session) => Promise.all([...this.queues].map((q) => this.connection.declare(session, q))),
        up: (session) => this.consumers.startAll(session),
        down: (_session, why) => this.confirms.failAll(new QueueUnavailableError(`RabbitMQ ${why} before confirming: ${this.connection.lastError}`)),
      },
    );
    this.confirms = new Confirms(options.confirmTimeoutMs ?? 5_000, (action, err) => this.connection.unavailable(action, err));
    this.consumers = new Consumers(this.connection, this.confirms, options.requeue ?? { initialMs: 200, maxMs: 10_000 }, options.log);
  }

  connect(): Promise<void> {
    return this.connection.connect();
  }

  async publish(queue: string, greeting: Greeting, headers: Record<string, string>): Promise<void> {
    const session = this.connection.requireSession();
    this.queues.add(queue);
    await this.connection.declare(session, queue);
    await this.confirms.publish(session, '', queue, Buffer.from(JSON.stringify(greeting)), {
      persistent: true,
      contentType: 'application/json',
      messageId: greeting.id,
      timestamp: Math.floor(Date.now() / 1000),
      headers,
    });
  }

  async consume(queue: string, prefetch: number, handler: DeliveryHandler): Promise<Subscription> {
    if (this.connection.closed) throw new QueueUnavailableError('RabbitMQ queue is closed');
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch must be a whole number >= 1, got ${prefetch}`);
    this.queues.add(queue);
    return { cancel: await this.consumers.add(queue, prefetch, handler) };
  }

  /** Connected, not blocked, and every consumer subscribed on the current connection (F is ready only while it consumes). */
  isReady(): boolean {
    const session = this.connection.session;
    return Boolean(session) && !this.connection.blocked && !this.connection.closed && this.consumers.allOn(session!);
  }

  notReadyReason(): string | undefined {
    if (this.isReady()) return undefined;
    const c = this.connection;
    return c.closed ? 'closed' : c.blocked ? 'the broker blocked publishing' : c.lastError;
  }

  async close(): Promise<void> {
    if (this.connection.closed) return;
    this.connection.stop();
    await this.consumers.cancelAll();
    // Publishes already sent get their confirm (or their timeout) before the connection goes.
    await this.confirms.settled();
    await this.connection.closeSession();
  }
}
