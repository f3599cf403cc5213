/**
 * What a role needs from its data plane. The in-memory backends (the default local run) and the real ones
 * (MongoDB, RabbitMQ) implement the same interfaces, and one contract suite runs against both.
 */
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';

export type InsertOutcome = 'stored' | 'duplicate';

export interface GreetingStore {
  readonly kind: 'memory' | 'mongodb';
  /** Connects and prepares indexes; resolves once the store can take writes. */
  connect(): Promise<void>;
  /** Stores a greeting once: a second insert of the same id resolves 'duplicate' and stores nothing. Rejects when the store is down. */
  insert(target: StoreTarget, greeting: Greeting): Promise<InsertOutcome>;
  /** True while writes can be expected to succeed. */
  isReady(): boolean;
  /** Why not ready (shown by the readiness probe), or undefined. */
  notReadyReason?(): string | undefined;
  close(): Promise<void>;
}

/** A message as the consumer sees it. */
export interface Delivery {
  body: string;
  headers: Record<string, string>;
  messageId?: string;
  redelivered: boolean;
}

/** What the consumer decided: the queue acts on it (ack, requeue after a delay, or dead-letter with the reason). */
export type Disposition = { action: 'ack' } | { action: 'requeue'; reason: string } | { action: 'dead-letter'; reason: string };

export type DeliveryHandler = (delivery: Delivery) => Promise<Disposition>;

export interface Subscription {
  /** Stops taking new messages; resolves once in-flight handlers have settled. */
  cancel(): Promise<void>;
}

export interface GreetingQueue {
  readonly kind: 'memory' | 'rabbitmq';
  /** Connects and declares the queue and its dead-letter queue. */
  connect(): Promise<void>;
  /** Resolves only once the broker has confirmed the message; rejects when it cannot (broker down, no confirm in time). */
  publish(queue: string, greeting: Greeting, headers: Record<string, string>): Promise<void>;
  /** Delivers messages to the handler, at most `prefetch` at a time, until cancelled; survives broker restarts. */
  consume(queue: string, prefetch: number, handler: DeliveryHandler): Promise<Subscription>;
  isReady(): boolean;
  /** Why not ready (shown by the readiness probe), or undefined. */
  notReadyReason?(): string | undefined;
  close(): Promise<void>;
}

/** The backends of one role: only the ones its config asks for. */
export interface RoleBackends {
  store?: GreetingStore;
  queue?: GreetingQueue;
}

/** Where a backend reports its connection changes: the role's logger is one. */
export interface BackendLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
