import { expect, test } from 'bun:test';
import { makeGreeting } from '../greeting';
import { MemoryQueue } from './memory-queue';
import { MemoryStore } from './memory-store';
import { inMemoryStore } from '../../test/support/stored';

const target = { database: 'db', collection: 'c' };

test('the in-memory store forgets its oldest greetings past its limit', async () => {
  const store = new MemoryStore(3);
  const greetings = Array.from({ length: 5 }, (_, i) => makeGreeting('Service C', `#${i}`));
  for (const g of greetings) expect(await store.insert(target, g)).toBe('stored');
  expect(inMemoryStore(store, target).map((g) => g.message)).toEqual(['#2', '#3', '#4']);
  expect(await store.insert(target, greetings[4]!)).toBe('duplicate');
});

test('a full in-memory queue refuses to publish instead of dropping', async () => {
  const queue = new MemoryQueue(2);
  await queue.publish('q', makeGreeting('Service D', '1'), {});
  await queue.publish('q', makeGreeting('Service D', '2'), {});
  await expect(queue.publish('q', makeGreeting('Service D', '3'), {})).rejects.toThrow('in-memory queue q is full (2 messages');
  const seen: string[] = [];
  await queue.consume('q', 10, async (d) => (seen.push(JSON.parse(d.body).message), { action: 'ack' }));
  expect(seen).toEqual(['1', '2']);
  await queue.publish('q', makeGreeting('Service D', '4'), {});
  await Bun.sleep(0);
  expect(seen).toEqual(['1', '2', '4']);
  await queue.close();
});
