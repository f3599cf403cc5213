/**
 * The embedded store of the default local run: greetings kept in process memory, one map per database.collection.
 * Same contract as the MongoDB store (insert-once by id), so the local platform behaves like the real one.
 */
import { collectionName } from '../config/facts';
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';
import type { GreetingStore, InsertOutcome } from './types';

/**
 * How many greetings a collection keeps before the oldest are forgotten. The embedded store is for watching the platform, not
 * for keeping data: without a bound a long local run (or a benchmark) would grow the process without end. A redelivery of a
 * forgotten greeting would be stored again; real MongoDB, with its unique index, never forgets.
 */
export const MEMORY_STORE_LIMIT = 10_000;

/** One collection: greetings by id, and a ring of their ids in insertion order, so forgetting the oldest is O(1). */
export class MemoryCollection {
  private readonly docs = new Map<string, Greeting>();
  private readonly order: string[] = [];
  private next = 0;

  constructor(private readonly limit: number) {}

  insert(greeting: Greeting): InsertOutcome {
    if (this.docs.has(greeting.id)) return 'duplicate';
    this.docs.set(greeting.id, greeting);
    if (this.order.length < this.limit) this.order.push(greeting.id);
    else {
      this.docs.delete(this.order[this.next]!);
      this.order[this.next] = greeting.id;
      this.next = (this.next + 1) % this.limit;
    }
    return 'stored';
  }

  /** What it holds, oldest first. */
  greetings(): Greeting[] {
    return [...this.order.slice(this.next), ...this.order.slice(0, this.next)].map((id) => this.docs.get(id)!);
  }
}

export class MemoryStore implements GreetingStore {
  readonly kind = 'memory';
  /** By `database.collection`; readable, so the local platform's contents can be looked at (the tests do). */
  readonly collections = new Map<string, MemoryCollection>();

  constructor(private readonly limit = MEMORY_STORE_LIMIT) {}

  async connect(): Promise<void> {}

  async insert(target: StoreTarget, greeting: Greeting): Promise<InsertOutcome> {
    return this.collectionOf(target).insert(greeting);
  }

  /** A role passes the same target object on every insert: found by identity, without building and hashing its name each time. */
  private readonly byTarget = new WeakMap<StoreTarget, MemoryCollection>();

  private collectionOf(target: StoreTarget): MemoryCollection {
    let collection = this.byTarget.get(target);
    if (collection) return collection;
    const key = collectionName(target);
    collection = this.collections.get(key);
    if (!collection) this.collections.set(key, (collection = new MemoryCollection(this.limit)));
    this.byTarget.set(target, collection);
    return collection;
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
