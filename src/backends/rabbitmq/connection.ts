/**
 * One connection and one confirm channel per process (the original opened a connection per request), re-established with
 * capped exponential backoff. A new session is published only once `prepare` (declaring the known queues) succeeded, so every
 * (re)connect brings the topology back before anything uses it.
 */
import { connect as amqpConnect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { redactSecrets, redactUrl } from '../redact';
import type { BackendLog } from '../types';
import { declareTopology } from './topology';
import { errorText, queueConflict, QueueUnavailableError } from './errors';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** One live connection with its confirm channel; replaced as a whole when either closes. */
export interface Session {
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** Topology declared on this session, per queue. */
  declared: Map<string, Promise<void>>;
  /** Consumers start one at a time: basic.qos applies to the next basic.consume on the channel. */
  consumerStarts: Promise<void>;
}

export interface SessionEvents {
  /** Runs before a new session is published; a rejection fails this attempt and schedules the next. */
  prepare(session: Session): Promise<unknown>;
  up(session: Session): void;
  /** The live session is gone; `lastError` says why. */
  down(session: Session, why: string): void;
}

export interface ConnectionOptions {
  connectTimeoutMs: number;
  reconnect: Backoff;
  log?: BackendLog;
}

export class BrokerConnection {
  session?: Session;
  blocked = false;
  closed = false;
  lastError = 'not connected yet';
  private started = false;
  private attempt = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  /** Callers of connect() waiting for the first connection: called with nothing once connected, with an error when closed. */
  private readonly connectWaiters = new Set<(error?: Error) => void>();

  constructor(
    private readonly url: string,
    private readonly options: ConnectionOptions,
    private readonly events: SessionEvents,
  ) {}

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new QueueUnavailableError('RabbitMQ queue is closed'));
    if (!this.started) {
      this.started = true;
      void this.establish();
    }
    if (this.session) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connectWaiters.delete(done);
        reject(new QueueUnavailableError(`RabbitMQ not reachable within ${this.options.connectTimeoutMs} ms: ${this.lastError}`));
      }, this.options.connectTimeoutMs);
      const done = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      this.connectWaiters.add(done);
    });
  }

  requireSession(): Session {
    if (this.closed) throw new QueueUnavailableError('RabbitMQ queue is closed');
    if (!this.session || this.blocked)
      throw new QueueUnavailableError(`RabbitMQ is not available: ${this.blocked ? 'the broker blocked publishing' : this.lastError}`);
    return this.session;
  }

  /** The topology of `queue` on `session`, declared once per session; forgotten on failure so the next use tries again. */
  declare(session: Session, queue: string): Promise<void> {
    let pending = session.declared.get(queue);
    if (!pending) {
      pending = declareTopology(session.channel, queue).catch((err: unknown) => {
        session.declared.delete(queue);
        throw this.unavailable(`declare queue ${queue}`, err);
      });
      session.declared.set(queue, pending);
    }
    return pending;
  }

  /** Ends the session (a consumer could not subscribe, the broker cancelled it, ...) and reconnects. */
  lost(session: Session, why: string): void {
    // A session that failed during set-up is retried by establish(); one that was live is handled once.
    if (this.session !== session) return;
    this.session = undefined;
    if (this.closed) return;
    this.options.log?.warn(`RabbitMQ ${why}: ${this.lastError}; reconnecting`);
    this.events.down(session, why);
    session.connection.close().catch(() => undefined);
    this.scheduleReconnect();
  }

  noteError(err: unknown): void {
    const text = redactSecrets(errorText(err), this.url);
    const conflict = queueConflict(text);
    // Said once per change: the reconnect loop meets the same conflict every few seconds until someone acts on it.
    if (conflict && conflict !== this.lastError) this.options.log?.error(conflict);
    this.lastError = conflict ?? text;
  }

  unavailable(action: string, err: unknown): QueueUnavailableError {
    const text = redactSecrets(`RabbitMQ could not ${action}: ${errorText(err)}`, this.url);
    return new QueueUnavailableError(queueConflict(text) ?? text);
  }

  /** Stops reconnecting and fails the callers still waiting for a first connection; the session stays for closeSession(). */
  stop(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const done of this.connectWaiters) done(new QueueUnavailableError('RabbitMQ queue is closed'));
    this.connectWaiters.clear();
  }

  async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.connection.close().catch(() => undefined);
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
        this.options.log?.warn(`RabbitMQ blocked publishing: ${reason}`);
      });
      connection.on('unblocked', () => {
        this.blocked = false;
      });
      await this.events.prepare(session);
      if (this.closed) {
        await connection.close().catch(() => undefined);
        return;
      }
      this.session = session;
      this.blocked = false;
      this.attempt = 0;
      this.options.log?.info(`RabbitMQ connected at ${redactUrl(this.url)}`);
      this.events.up(session);
      for (const done of this.connectWaiters) done();
      this.connectWaiters.clear();
    } catch (err) {
      this.noteError(err);
      await connection?.close().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const { initialMs, maxMs } = this.options.reconnect;
    const base = Math.min(maxMs, initialMs * 2 ** this.attempt);
    // ±20% jitter, so replicas do not retry in step.
    const delay = Math.min(maxMs, base * (0.8 + Math.random() * 0.4));
    this.attempt = Math.min(this.attempt + 1, 30);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.establish();
    }, delay);
  }
}

/** A dead peer behind a silent network is noticed by heartbeats; 10 s instead of the broker's 60 s unless the URL says otherwise. */
export function withHeartbeat(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', '10');
    return parsed.toString();
  } catch {
    return url;
  }
}
