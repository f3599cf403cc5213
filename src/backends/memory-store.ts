/**
 * The embedded store of the default local run: greetings kept in process memory, one map per database.collection.
 * Same contract as the MongoDB store (insert-once by id), so the local platform behaves like the real one.
 */
import type { StoreTarget } from '../config/schema';
import type { Greeting } from '../greeting';
import type { GreetingStore, InsertOutcome } from './types';

export class MemoryStore implements GreetingStore {
  readonly kind = 'memory';
  private readonly collections = new Map<string, Map<string, Greeting>>();

  async connect(): Promise<void> {}

  async insert(target: StoreTarget, greeting: Greeting): Promise<InsertOutcome> {
    const key = `${target.database}.${target.collection}`;
    let docs = this.collections.get(key);
    if (!docs) this.collections.set(key, (docs = new Map()));
    if (docs.has(greeting.id)) return 'duplicate';
    docs.set(greeting.id, { ...greeting });
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
