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
  private readonly collections = new Map<string, Map<string, Greeting>>();

  constructor(private readonly limit = MEMORY_STORE_LIMIT) {}

  async connect(): Promise<void> {}

  async insert(target: StoreTarget, greeting: Greeting): Promise<InsertOutcome> {
    const key = `${target.database}.${target.collection}`;
    let docs = this.collections.get(key);
    if (!docs) this.collections.set(key, (docs = new Map()));
    if (docs.has(greeting.id)) return 'duplicate';
    docs.set(greeting.id, greeting);
    if (docs.size > this.limit) docs.delete(docs.keys().next().value!);
    return 'stored';
  }

  async list(target: StoreTarget): Promise<Greeting[]> {
    return [...(this.collections.get(`${target.database}.${target.collection}`)?.values() ?? [])];
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
