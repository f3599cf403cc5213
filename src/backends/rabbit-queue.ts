/**
 * GreetingQueue on RabbitMQ. One connection and one confirm channel per process (the original opened a connection per request),
 * re-established with capped exponential backoff; every (re)connect declares the topology again and re-subscribes the consumers, so
 * a broker restart costs readiness for a while, never the consumer.
 *
 * Topology for a queue Q: durable Q whose dead letters go to the direct exchange `Q.dlx`, bound to the durable queue
 * `Q.dead-letter`. A message the consumer can never handle is republished there with the reason in the `x-death-reason` header and
 * acknowledged only after the broker confirmed the copy (a crash in between duplicates a dead letter, never loses one).
 *
 * Delivery guarantees: publish() resolves only on the broker's confirm; a consumed message is acked only after its handler said so,
 * so anything in flight when the connection drops is redelivered by the broker.
 */
import { connect as amqpConnect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import type { Greeting } from '../greeting';
import type { Delivery, Disposition, GreetingQueue, Subscription } from './types';
import { redactSecrets, redactUrl } from './redact';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface RabbitQueueOptions {
  /** How long publish() waits for the broker's confirm before rejecting (the publisher must answer while its caller waits). */
  confirmTimeoutMs?: number;
  /** How long connect() waits for the first connection before rejecting; reconnecting goes on in the background either way. */
  connectTimeoutMs?: number;
  /** Delay between connection attempts: doubles from initialMs up to maxMs, with ±20% jitter so replicas do not retry in step. */
  reconnect?: Backoff;
  /** Delay before a message the handler asked to requeue goes back: doubles per retry of the same message, up to maxMs. */
  requeue?: Backoff;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** The broker could not take or confirm a message: the message is a reason fit for a 503 body (no credentials). */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
}

export const DEATH_REASON_HEADER = 'x-death-reason';
export const deadLetterQueue = (queue: string) => `${queue}.dead-letter`;
export const deadLetterExchange = (queue: string) => `${queue}.dlx`;

/** One live connection with its confirm channel; replaced as a whole when either closes. */
interface Session {
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** Topology declared on this session, per queue. */
  declared: Map<string, Promise<void>>;
  /** Consumers start one at a time: basic.qos applies to the next basic.consume on the channel. */
  consumerStarts: Promise<void>;
}

interface Consumer {
  queue: string;
  prefetch: number;
  handler: (d: Delivery) => Promise<Disposition>;
  cancelled: boolean;
  session?: Session;
  tag?: string;
  inFlight: Set<Promise<void>>;
  /** Requeues waiting out their backoff; flushed at once on cancel so nothing waits on a stopping consumer. */
  delayed: Map<ReturnType<typeof setTimeout>, () => void>;
}

/** Retry counts survive only in this process; they shape the backoff, not correctness, so a bounded map is enough. */
const MAX_TRACKED_RETRIES = 10_000;

export class RabbitQueue implements GreetingQueue {
  readonly kind = 'rabbitmq' as const;
  private session?: Session;
  private started = false;
  private closed = false;
  private blocked = false;
  private attempt = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private lastError = 'not connected yet';
  private readonly queues = new Set<string>();
  private readonly consumers = new Set<Consumer>();
  private readonly pendingPublishes = new Set<{ fail: (err: Error) => void; done: Promise<void> }>();
  /** Callers of connect() waiting for the first connection: called with nothing once connected, with an error when closed. */
  private readonly connectWaiters = new Set<(error?: Error) => void>();
  private readonly retries = new Map<string, number>();
  private readonly confirmTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly reconnect: Backoff;
  private readonly requeue: Backoff;
  private readonly url: string;

  constructor(
    url: string,
    private readonly options: RabbitQueueOptions = {},
  ) {
    this.url = withHeartbeat(url);
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 5_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.reconnect = options.reconnect ?? { initialMs: 100, maxMs: 5_000 };
    this.requeue = options.requeue ?? { initialMs: 200, maxMs: 10_000 };
  }

  async connect(): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('RabbitMQ queue is closed');
    if (!this.started) {
      this.started = true;
      void this.establish();
    }
    if (this.session) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connectWaiters.delete(done);
        reject(new QueueUnavailableError(`RabbitMQ not reachable within ${this.connectTimeoutMs} ms: ${this.lastError}`));
      }, this.connectTimeoutMs);
      const done = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      this.connectWaiters.add(done);
    });
  }

  async publish(queue: string, greeting: Greeting, headers: Record<string, string>): Promise<void> {
    const session = this.requireSession();
    this.queues.add(queue);
    await this.declare(session, queue);
    const body = Buffer.from(JSON.stringify(greeting));
    await this.publishConfirmed(session, '', queue, body, {
      persistent: true,
      contentType: 'application/json',
      messageId: greeting.id,
      timestamp: Math.floor(Date.now() / 1000),
      headers,
    });
  }

  async consume(queue: string, prefetch: number, handler: (d: Delivery) => Promise<Disposition>): Promise<Subscription> {
    if (this.closed) throw new QueueUnavailableError('RabbitMQ queue is closed');
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch must be a whole number >= 1, got ${prefetch}`);
    const consumer: Consumer = { queue, prefetch, handler, cancelled: false, inFlight: new Set(), delayed: new Map() };
    this.queues.add(queue);
    this.consumers.add(consumer);
    // Not connected yet: the consumer starts with the next session, like after any reconnect.
    if (this.session) await this.startConsumer(this.session, consumer);
    return { cancel: () => this.cancelConsumer(consumer) };
  }

  async deadLetters(queue: string): Promise<{ body: string; reason: string }[]> {
    const session = this.requireSession();
    this.queues.add(queue);
    await this.declare(session, queue);
    // A throw-away channel: every message got without ack goes back to the queue, in order, when it closes.
    let reader: Channel | undefined;
    try {
      reader = await session.connection.createChannel();
      reader.on('error', () => undefined);
      const letters: { body: string; reason: string }[] = [];
      for (;;) {
        const msg = await reader.get(deadLetterQueue(queue), { noAck: false });
        if (!msg) break;
        const reason = msg.properties.headers?.[DEATH_REASON_HEADER];
        letters.push({ body: msg.content.toString('utf8'), reason: reason === undefined ? 'unknown' : headerText(reason) });
      }
      return letters;
    } catch (err) {
      throw this.unavailable(`read ${deadLetterQueue(queue)}`, err);
    } finally {
      await reader?.close().catch(() => undefined);
    }
  }

  notReadyReason(): string | undefined {
    if (this.isReady()) return undefined;
    return this.closed ? 'closed' : this.blocked ? 'the broker blocked publishing' : this.lastError;
  }

  /** Connected, not blocked, and every consumer subscribed on the current connection (F is ready only while it consumes). */
  isReady(): boolean {
    const session = this.session;
    if (!session || this.blocked || this.closed) return false;
    for (const consumer of this.consumers) if (consumer.session !== session) return false;
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const done of this.connectWaiters) done(new QueueUnavailableError('RabbitMQ queue is closed'));
    this.connectWaiters.clear();
    await Promise.all([...this.consumers].map((c) => this.cancelConsumer(c)));
    // Publishes already sent get their confirm (or their timeout) before the connection goes.
    await Promise.allSettled([...this.pendingPublishes].map((p) => p.done));
    const session = this.session;
    this.session = undefined;
    await session?.connection.close().catch(() => undefined);
  }

  private requireSession(): Session {
    if (this.closed) throw new QueueUnavailableError('RabbitMQ queue is closed');
    if (!this.session || this.blocked)
      throw new QueueUnavailableError(`RabbitMQ is not available: ${this.blocked ? 'the broker blocked publishing' : this.lastError}`);
    return this.session;
  }

  /** One connection attempt; on failure, schedules the next one. Never rejects. */
  private async establish(): Promise<void> {
    if (this.closed) return;
    let connection: ChannelModel | undefined;
    try {
      connection = await amqpConnect(this.url, { timeout: 5_000 });
      // Both emit 'error' before 'close'; without a listener an 'error' would crash the process, so listen at once.
      connection.on('error', (err: Error) => this.noteError(err));
      const channel = await connection.createConfirmChannel();
      const session: Session = { connection, channel, declared: new Map(), consumerStarts: Promise.resolve() };
      channel.on('error', (err: Error) => this.noteError(err));
      connection.on('close', () => this.lost(session, 'connection closed'));
      channel.on('close', () => this.lost(session, 'channel closed'));
      connection.on('blocked', (reason: string) => {
        this.blocked = true;
        this.options.log?.('warn', `RabbitMQ blocked publishing: ${reason}`);
      });
      connection.on('unblocked', () => {
        this.blocked = false;
      });
      await Promise.all([...this.queues].map((q) => this.declare(session, q)));
      if (this.closed) {
        await connection.close().catch(() => undefined);
        return;
      }
      this.session = session;
      this.blocked = false;
      this.attempt = 0;
      this.options.log?.('info', `RabbitMQ connected at ${redactUrl(this.url)}`);
      for (const consumer of this.consumers) void this.startConsumer(session, consumer);
      for (const done of this.connectWaiters) done();
      this.connectWaiters.clear();
    } catch (err) {
      this.noteError(err);
      await connection?.close().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private lost(session: Session, why: string): void {
    if (this.session !== session) {
      // A session that failed during set-up is retried by establish(); one that was live is handled once.
      return;
    }
    this.session = undefined;
    if (this.closed) return;
    this.options.log?.('warn', `RabbitMQ ${why}: ${this.lastError}; reconnecting`);
    for (const p of this.pendingPublishes) p.fail(new QueueUnavailableError(`RabbitMQ ${why} before confirming: ${this.lastError}`));
    session.connection.close().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const base = Math.min(this.reconnect.maxMs, this.reconnect.initialMs * 2 ** this.attempt);
    const delay = Math.min(this.reconnect.maxMs, base * (0.8 + Math.random() * 0.4));
    this.attempt = Math.min(this.attempt + 1, 30);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.establish();
    }, delay);
  }

  private declare(session: Session, queue: string): Promise<void> {
    let pending = session.declared.get(queue);
    if (!pending) {
      const ch = session.channel;
      pending = (async () => {
        await ch.assertExchange(deadLetterExchange(queue), 'direct', { durable: true });
        await ch.assertQueue(deadLetterQueue(queue), { durable: true });
        await ch.bindQueue(deadLetterQueue(queue), deadLetterExchange(queue), queue);
        await ch.assertQueue(queue, {
          durable: true,
          arguments: { 'x-dead-letter-exchange': deadLetterExchange(queue), 'x-dead-letter-routing-key': queue },
        });
      })().catch((err: unknown) => {
        session.declared.delete(queue);
        throw this.unavailable(`declare queue ${queue}`, err);
      });
      session.declared.set(queue, pending);
    }
    return pending;
  }

  private publishConfirmed(session: Session, exchange: string, key: string, body: Buffer, props: Options.Publish): Promise<void> {
    let entry!: { fail: (err: Error) => void; done: Promise<void> };
    const done = new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pendingPublishes.delete(entry);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () => settle(new QueueUnavailableError(`RabbitMQ did not confirm within ${this.confirmTimeoutMs} ms`)),
        this.confirmTimeoutMs,
      );
      entry = { fail: settle, done: Promise.resolve() };
      this.pendingPublishes.add(entry);
      try {
        session.channel.publish(exchange, key, body, props, (err: unknown) =>
          settle(err ? new QueueUnavailableError(`RabbitMQ refused the message: ${describe(err)}`) : undefined),
        );
      } catch (err) {
        settle(this.unavailable('publish', err));
      }
    });
    entry.done = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  private startConsumer(session: Session, consumer: Consumer): Promise<void> {
    const start = session.consumerStarts.then(async () => {
      if (consumer.cancelled || this.session !== session) return;
      try {
        await this.declare(session, consumer.queue);
        await session.channel.prefetch(consumer.prefetch);
        const { consumerTag } = await session.channel.consume(consumer.queue, (msg) => this.onMessage(session, consumer, msg), {
          noAck: false,
        });
        consumer.session = session;
        consumer.tag = consumerTag;
      } catch (err) {
        // Usually the channel went with it and the next session subscribes again. If the session is somehow still up, start a
        // new one anyway: a consumer must never stay silently unsubscribed.
        this.noteError(err);
        if (this.session === session) this.lost(session, `could not subscribe to ${consumer.queue}`);
      }
    });
    session.consumerStarts = start;
    return start;
  }

  private onMessage(session: Session, consumer: Consumer, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted): start over so the topology and the subscription come back.
      this.options.log?.('warn', `RabbitMQ cancelled the consumer of ${consumer.queue}; reconnecting`);
      this.lost(session, 'cancelled the consumer');
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
        disposition = { action: 'requeue', reason: `handler failed: ${describe(err)}` };
      }
      await this.dispose(session, consumer, msg, delivery, disposition);
    })().catch((err: unknown) => this.noteError(err));
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
          await this.publishConfirmed(session, deadLetterExchange(consumer.queue), consumer.queue, msg.content, {
            persistent: true,
            contentType: msg.properties.contentType as string | undefined,
            messageId: d.messageId,
            headers: { ...msg.properties.headers, [DEATH_REASON_HEADER]: disposition.reason },
          });
        } catch (err) {
          return this.requeueLater(session, consumer, msg, key, `dead-lettering failed: ${describe(err)}`);
        }
        this.retries.delete(key);
        this.options.log?.('warn', `dead-lettered a message from ${consumer.queue}: ${disposition.reason}`);
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
    this.options.log?.('warn', `requeueing a message from ${consumer.queue} in ${delay} ms: ${reason}`);
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
    if (this.session !== session) return;
    try {
      action();
    } catch (err) {
      this.noteError(err);
    }
  }

  private async cancelConsumer(consumer: Consumer): Promise<void> {
    if (consumer.cancelled) return;
    consumer.cancelled = true;
    this.consumers.delete(consumer);
    const session = consumer.session;
    if (session && session === this.session && consumer.tag)
      await session.channel.cancel(consumer.tag).catch((err: unknown) => this.noteError(err));
    for (const release of [...consumer.delayed.values()]) release();
    await Promise.allSettled([...consumer.inFlight]);
  }

  private noteError(err: unknown): void {
    const text = redactSecrets(describe(err), this.url);
    const conflict = queueConflict(text);
    // Said once per change: the reconnect loop meets the same conflict every few seconds until someone acts on it.
    if (conflict && conflict !== this.lastError) this.options.log?.('error', conflict);
    this.lastError = conflict ?? text;
  }

  private unavailable(action: string, err: unknown): QueueUnavailableError {
    const text = redactSecrets(`RabbitMQ could not ${action}: ${describe(err)}`, this.url);
    return new QueueUnavailableError(queueConflict(text) ?? text);
  }
}

/** A dead peer behind a silent network is noticed by heartbeats; 10 s instead of the broker's 60 s unless the URL says otherwise. */
function withHeartbeat(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', '10');
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * A queue that exists with other arguments than ours: RabbitMQ refuses the declaration (406 PRECONDITION_FAILED) and closes the
 * channel. The original platform declares `service-d.greeting` non-durable and without a dead-letter exchange, so on a broker
 * where it ran first this is what happens; the reason says what to do (README: "Sharing a broker with the original").
 */
export function queueConflict(text: string): string | undefined {
  const m = /PRECONDITION_FAILED - inequivalent arg '([^']+)' for queue '([^']+)'[^:]*: received ([^ ]+) but current is ([^ "]+)/.exec(text);
  if (!m) return undefined;
  const [, arg, queue, ours, theirs] = m;
  return (
    `queue '${queue}' already exists on the broker with ${arg} ${theirs} where greeting-mesh declares ${ours} ` +
    `(the original platform declares it non-durable): delete it (rabbitmqctl delete_queue ${queue}; its messages are lost) ` +
    `or set QUEUE_NAME to another queue`
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined && v !== null) out[k] = headerText(v);
  return out;
}
