/**
 * The consumers of one connection: each subscribes again on every new session, acks a message only after its handler said
 * so (anything in flight when the connection drops is redelivered by the broker), requeues with a backoff per message, and
 * dead-letters with the reason only once the broker confirmed the copy (a crash in between duplicates a dead letter, never
 * loses one).
 */
import type { ConsumeMessage } from 'amqplib';
import type { BackendLog, Delivery, DeliveryHandler, Disposition } from '../types';
import type { Backoff, BrokerConnection, Session } from './connection';
import type { Confirms } from './confirms';
import { errorText } from './errors';
import { DEATH_REASON_HEADER, deadLetterExchange } from './topology';

interface Consumer {
  queue: string;
  prefetch: number;
  handler: DeliveryHandler;
  cancelled: boolean;
  session?: Session;
  tag?: string;
  inFlight: Set<Promise<void>>;
  /** Requeues waiting out their backoff; flushed at once on cancel so nothing waits on a stopping consumer. */
  delayed: Map<ReturnType<typeof setTimeout>, () => void>;
}

/** Retry counts survive only in this process; they shape the backoff, not correctness, so a bounded map is enough. */
const MAX_TRACKED_RETRIES = 10_000;

export class Consumers {
  private readonly consumers = new Set<Consumer>();
  private readonly retries = new Map<string, number>();

  constructor(
    private readonly connection: BrokerConnection,
    private readonly confirms: Confirms,
    /** Delay before a message the handler asked to requeue goes back: doubles per retry of the same message, up to maxMs. */
    private readonly requeue: Backoff,
    private readonly log?: BackendLog,
  ) {}

  async add(queue: string, prefetch: number, handler: DeliveryHandler): Promise<() => Promise<void>> {
    const consumer: Consumer = { queue, prefetch, handler, cancelled: false, inFlight: new Set(), delayed: new Map() };
    this.consumers.add(consumer);
    // Not connected yet: the consumer starts with the next session, like after any reconnect.
    const session = this.connection.session;
    if (session) await this.start(session, consumer);
    return () => this.cancel(consumer);
  }

  /** Every consumer subscribed on the current session (F is ready only while it consumes). */
  allOn(session: Session): boolean {
    for (const consumer of this.consumers) if (consumer.session !== session) return false;
    return true;
  }

  startAll(session: Session): void {
    for (const consumer of this.consumers) void this.start(session, consumer);
  }

  async cancelAll(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => this.cancel(c)));
  }

  private start(session: Session, consumer: Consumer): Promise<void> {
    const start = session.consumerStarts.then(async () => {
      if (consumer.cancelled || this.connection.session !== session) return;
      try {
        await this.connection.declare(session, consumer.queue);
        await session.channel.prefetch(consumer.prefetch);
        const { consumerTag } = await session.channel.consume(consumer.queue, (msg) => this.onMessage(session, consumer, msg), { noAck: false });
        consumer.session = session;
        consumer.tag = consumerTag;
      } catch (err) {
        // Usually the channel went with it and the next session subscribes again. If the session is somehow still up, start a
        // new one anyway: a consumer must never stay silently unsubscribed.
        this.connection.noteError(err);
        if (this.connection.session === session) this.connection.lost(session, `could not subscribe to ${consumer.queue}`);
      }
    });
    session.consumerStarts = start;
    return start;
  }

  private onMessage(session: Session, consumer: Consumer, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted): start over so the topology and the subscription come back.
      this.log?.warn(`RabbitMQ cancelled the consumer of ${consumer.queue}; reconnecting`);
      this.connection.lost(session, 'cancelled the consumer');
      return;
    }
    const delivery: Delivery = {
      body: msg.content.toString('utf8'),
      headers: stringHeaders(msg.properties.headers),
      messageId: msg.properties.messageId as string | undefined,
      redelivered: msg.fields.redelivered,
    };
    const task = (async () => {
      let disposition: Disposition;
      try {
        disposition = await consumer.handler(delivery);
      } catch (err) {
        disposition = { action: 'requeue', reason: `handler failed: ${errorText(err)}` };
      }
      await this.dispose(session, consumer, msg, delivery, disposition);
    })().catch((err: unknown) => this.connection.noteError(err));
    consumer.inFlight.add(task);
    void task.finally(() => consumer.inFlight.delete(task));
  }

  private async dispose(session: Session, consumer: Consumer, msg: ConsumeMessage, d: Delivery, disposition: Disposition) {
    const key = d.messageId ?? d.body;
    switch (disposition.action) {
      case 'ack':
        this.retries.delete(key);
        this.settle(session, () => session.channel.ack(msg));
        return;
      case 'requeue':
        return this.requeueLater(session, consumer, msg, key, disposition.reason);
      case 'dead-letter':
        try {
          await this.confirms.publish(session, deadLetterExchange(consumer.queue), consumer.queue, msg.content, {
            persistent: true,
            contentType: msg.properties.contentType as string | undefined,
            messageId: d.messageId,
            headers: { ...msg.properties.headers, [DEATH_REASON_HEADER]: disposition.reason },
          });
        } catch (err) {
          return this.requeueLater(session, consumer, msg, key, `dead-lettering failed: ${errorText(err)}`);
        }
        this.retries.delete(key);
        this.log?.warn(`dead-lettered a message from ${consumer.queue}: ${disposition.reason}`);
        this.settle(session, () => session.channel.ack(msg));
        return;
    }
  }

  /** Holds the message (and its prefetch slot) for a backoff delay, then hands it back to the broker for redelivery. */
  private requeueLater(session: Session, consumer: Consumer, msg: ConsumeMessage, key: string, reason: string): Promise<void> {
    const retry = this.retries.get(key) ?? 0;
    this.retries.delete(key);
    this.retries.set(key, retry + 1);
    if (this.retries.size > MAX_TRACKED_RETRIES) this.retries.delete(this.retries.keys().next().value as string);
    const delay = Math.min(this.requeue.maxMs, this.requeue.initialMs * 2 ** retry);
    this.log?.warn(`requeueing a message from ${consumer.queue} in ${delay} ms: ${reason}`);
    return new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        consumer.delayed.delete(timer);
        this.settle(session, () => session.channel.nack(msg, false, true));
        resolve();
      };
      const timer = setTimeout(release, consumer.cancelled ? 0 : delay);
      consumer.delayed.set(timer, release);
    });
  }

  /** Acks and nacks only make sense on the channel that delivered the message; after a reconnect the broker redelivers instead. */
  private settle(session: Session, action: () => void): void {
    if (this.connection.session !== session) return;
    try {
      action();
    } catch (err) {
      this.connection.noteError(err);
    }
  }

  private async cancel(consumer: Consumer): Promise<void> {
    if (consumer.cancelled) return;
    consumer.cancelled = true;
    this.consumers.delete(consumer);
    const session = consumer.session;
    if (session && session === this.connection.session && consumer.tag)
      await session.channel.cancel(consumer.tag).catch((err: unknown) => this.connection.noteError(err));
    for (const release of [...consumer.delayed.values()]) release();
    await Promise.allSettled([...consumer.inFlight]);
  }
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

export function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined && v !== null) out[k] = headerText(v);
  return out;
}
