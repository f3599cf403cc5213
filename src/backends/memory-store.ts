/**
 * The embedded store of the default local run: greetings kept in process memory, one map per database.collection.
 * Same contract as the MongoDB store (insert-once by id), so the local platform behaves like the real one.
 */
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';
import type { GreetingStore, InsertOutcome } from './types';

/**
 * How many greetings a collection keeps before the oldest are forgotten. The embedded store is for watching the platform, not
 * for keeping data: without a bound a long local run (or a benchmark) would grow the process without end. A redelivery of a
 * forgotten greeting would be stored again; real MongoDB, with its unique index, never forgets.
 */
export const MEMORY_STORE_LIMIT = 10_000;

export class MemoryStore implements GreetingStore {
  readonly kind = 'memory';
  private readonly collections = new Map<string, { docs: Map<string, Greeting>; order: string[]; next: number }>();

  constructor(private readonly limit = MEMORY_STORE_LIMIT) {}

  async connect(): Promise<void> {}

  async insert(target: StoreTarget, greeting: Greeting): Promise<InsertOutcome> {
    const key = `${target.database}.${target.collection}`;
    let collection = this.collections.get(key);
    if (!collection) this.collections.set(key, (collection = { docs: new Map(), order: [], next: 0 }));
    const { docs, order } = collection;
    if (docs.has(greeting.id)) return 'duplicate';
    docs.set(greeting.id, greeting);
    // A ring of ids in insertion order: forgetting the oldest is O(1) (iterating a large Map from its start is not).
    if (order.length < this.limit) order.push(greeting.id);
    else {
      docs.delete(order[collection.next]!);
      order[collection.next] = greeting.id;
      collection.next = (collection.next + 1) % this.limit;
    }
    return 'stored';
  }

  async list(target: StoreTarget): Promise<Greeting[]> {
    const collection = this.collections.get(`${target.database}.${target.collection}`);
    if (!collection) return [];
    const { docs, order, next } = collection;
    return [...order.slice(next), ...order.slice(0, next)].map((id) => docs.get(id)!);
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
