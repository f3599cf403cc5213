import { describe, expect, test } from 'bun:test';
import { makeGreeting } from '../greeting';
import { IdWindow, MEMORY_STORE_KEPT, MemoryCollection } from './memory-store';

/** What the window must answer: a set of the last `limit` ids added, the oldest forgotten first. */
class ReferenceWindow {
  private readonly order: string[] = [];
  constructor(private readonly limit: number) {}
  has(id: string) {
    return this.order.includes(id);
  }
  add(id: string) {
    this.order.push(id);
    if (this.order.length > this.limit) this.order.shift();
  }
}

/** Two uuids that share the 52 bits the window finds ids by (the first 8 hex digits and the last 5), and differ elsewhere. */
const SHARING = ['aaaaaaaa-1111-4111-8111-00000000ffff', 'aaaaaaaa-2222-4222-9222-11111110ffff'];

describe('the in-memory store', () => {
  test('refuses a duplicate for as long as it remembers the id, after it has stopped keeping the greeting itself', () => {
    const collection = new MemoryCollection(MEMORY_STORE_KEPT * 3);
    const greetings = Array.from({ length: MEMORY_STORE_KEPT * 3 }, (_, i) => makeGreeting('Service C', `#${i}`));
    for (const g of greetings) expect(collection.insert(g)).toBe('stored');
    expect(collection.greetings().map((g) => g.message)).toEqual(greetings.slice(-MEMORY_STORE_KEPT).map((g) => g.message));
    expect(collection.insert({ ...greetings[0]! })).toBe('duplicate');
    expect(collection.insert(makeGreeting('Service C', 'one more'))).toBe('stored');
    // The first id has now left the window: a redelivery of it is stored again, as the embedded store says it would be.
    expect(collection.insert({ ...greetings[0]! })).toBe('stored');
    expect(collection.insert({ ...greetings[2]! })).toBe('duplicate');
  });

  test('ids that are not lower-case uuids are remembered exactly, by their text', () => {
    const window = new IdWindow(10);
    const lower = crypto.randomUUID();
    const ids = [lower, lower.toUpperCase(), '', 'not-a-uuid', `${lower} `, lower.replace(/-/g, '_'), 'é'.repeat(36)];
    for (const id of ids) {
      expect(window.has(id)).toBe(false);
      window.add(id);
      expect(window.has(id)).toBe(true);
    }
    expect(window.has(crypto.randomUUID())).toBe(false);
  });

  test('two uuids found by the same bits are told apart, and forgetting one keeps the other', () => {
    const window = new IdWindow(4);
    const [first, second] = SHARING as [string, string];
    const known = () => [window.has(first), window.has(second)];
    window.add(first);
    window.add(crypto.randomUUID());
    expect(window.has(second)).toBe(false);
    window.add(second);
    window.add(crypto.randomUUID());
    expect(known()).toEqual([true, true]);
    window.add(crypto.randomUUID()); // the first is forgotten
    expect(known()).toEqual([false, true]);
    window.add(first);
    expect(known()).toEqual([true, true]);
    window.add(crypto.randomUUID()); // the second is forgotten
    expect(known()).toEqual([true, false]);
    for (let i = 0; i < 3; i++) window.add(crypto.randomUUID());
    expect(known()).toEqual([false, false]);
  });

  test.each([1, 3, 4, 50, 1_000])('answers as a set of the last %d ids would, over a long random run of new, repeated, sharing and other ids', (limit) => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const window = new IdWindow(limit);
    const reference = new ReferenceWindow(limit);
    const seen: string[] = [];
    const sharing = (i: number) => `aaaaaaaa-${String(i % 10_000).padStart(4, '0')}-4000-8000-0000000${(i % 10).toString(16)}ffff`.slice(0, 36);
    let duplicates = 0;
    for (let i = 0; i < 20_000; i++) {
      const r = random();
      const id =
        r < 0.4 || seen.length === 0
          ? crypto.randomUUID()
          : r < 0.7
            ? seen[seen.length - 1 - Math.floor(random() * Math.min(seen.length, limit * 2))]!
            : r < 0.85
              ? sharing(Math.floor(random() * 200))
              : `id-${Math.floor(random() * 100)}`;
      const expected = reference.has(id);
      expect(window.has(id)).toBe(expected);
      if (expected) duplicates++;
      else {
        window.add(id);
        reference.add(id);
      }
      seen.push(id);
    }
    // The run asked both questions often: neither answer was always the same.
    expect(duplicates).toBeGreaterThan(limit < 50 ? 200 : 2_000);
    expect(duplicates).toBeLessThan(18_000);
  });
});
