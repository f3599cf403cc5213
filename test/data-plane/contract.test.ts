/**
 * One contract, two implementations: the in-memory store and queue of the default local run, and the real MongoDB and RabbitMQ
 * backends. Every behaviour the roles rely on is asserted here against both, so the embedded defaults cannot drift from production.
 *
 * The real servers come from test/support/backends.ts (environment URLs, containers, or local FerretDB and rabbitmq-server). Where
 * FerretDB stands in for MongoDB, the behaviours used here are the ones both share: a unique index rejecting a second insert with
 * error code 11000, sorting on a date field, dates stored as BSON dates.
 */
import { expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { connect as amqpConnect } from 'amqplib';
import { MemoryQueue } from '../../src/backends/memory-queue';
import { MemoryStore } from '../../src/backends/memory-store';
import { MongoStore } from '../../src/backends/mongo-store';
import { RabbitQueue } from '../../src/backends/rabbitmq/queue';
import type { Delivery, Disposition, GreetingQueue, GreetingStore } from '../../src/backends/types';
import type { StoreTarget } from '../../src/config/schema';
import { makeGreeting, type Greeting } from '../../src/greeting';
import { describeWithBackends, waitUntil, type ServerHandle } from '../support/backends';
import { BUN_SUITE, type Suite } from '../support/requirements';
import { inMemoryDeadLetters, inMemoryStore, inMongo, inRabbitDeadLetters } from '../support/stored';

interface Fixture {
  store: () => GreetingStore;
  queue: () => GreetingQueue;
  /** What a store holds in a target, oldest first, read from the test's side. */
  stored: (store: GreetingStore, target: StoreTarget) => Promise<Greeting[]>;
  /** The dead letters of a queue, read from the test's side. */
  deadLetters: (queue: GreetingQueue, name: string) => Promise<{ body: string; reason: string }[]>;
  /** Puts a message on a queue the way a foreign publisher would (no checks): how poison messages arrive. */
  rawPublish: (queue: string, body: string) => Promise<void>;
  /** The real broker, for the one behaviour the in-memory queue cannot show: publishing while the broker is down. */
  broker?: ServerHandle;
}

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

const uniqueQueue = () => `contract-${randomUUID().slice(0, 8)}`;
const uniqueTarget = (): StoreTarget => ({ database: 'contract', collection: `greetings-${randomUUID().slice(0, 8)}` });

/** Greetings a few milliseconds apart, so "oldest first" has one answer. */
function greetings(n: number, service = 'service-d'): Greeting[] {
  const base = Date.now() - n * 10;
  return Array.from({ length: n }, (_, i) => ({ ...makeGreeting(service, `Hello from ${service} #${i}`), created: new Date(base + i * 10).toISOString() }));
}

/** Collects deliveries; `decide` picks each one's fate (ack by default). */
function recorder(decide: (d: Delivery, seen: Delivery[]) => Disposition | Promise<Disposition> = () => ({ action: 'ack' })) {
  const seen: Delivery[] = [];
  const handler = async (d: Delivery) => {
    seen.push(d);
    return decide(d, seen);
  };
  return { seen, handler };
}

function contract(kind: string, { describe, test, beforeAll, afterAll }: Suite, fixture: Fixture) {
  describe(`GreetingStore contract (${kind})`, () => {
    let store: GreetingStore;
    beforeAll(async () => {
      store = fixture.store();
      await store.connect();
    });
    afterAll(() => store.close());

    test('is ready once connected', () => {
      expect(store.isReady()).toBe(true);
    });

    test('stores a greeting and lists it with the same fields', async () => {
      const target = uniqueTarget();
      const [g] = greetings(1) as [Greeting];
      expect(await store.insert(target, g)).toBe('stored');
      expect(await fixture.stored(store, target)).toEqual([g]);
    });

    test('a second insert of the same id is a duplicate and stores nothing', async () => {
      const target = uniqueTarget();
      const [g] = greetings(1) as [Greeting];
      expect(await store.insert(target, g)).toBe('stored');
      expect(await store.insert(target, { ...g, message: 'redelivered copy' })).toBe('duplicate');
      expect(await fixture.stored(store, target)).toEqual([g]);
    });

    test('concurrent inserts of one id store it exactly once', async () => {
      const target = uniqueTarget();
      const [g] = greetings(1) as [Greeting];
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.insert(target, g)));
      expect(outcomes.filter((o) => o === 'stored')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(7);
      expect(await fixture.stored(store, target)).toHaveLength(1);
    });

    test('lists oldest first and keeps targets apart', async () => {
      const [a, b] = [uniqueTarget(), uniqueTarget()];
      const gs = greetings(5);
      for (const g of gs) await store.insert(a, g);
      expect(await store.insert(b, gs[0]!)).toBe('stored');
      expect((await fixture.stored(store, a)).map((g) => g.id)).toEqual(gs.map((g) => g.id));
      expect((await fixture.stored(store, b)).map((g) => g.id)).toEqual([gs[0]!.id]);
      expect(await fixture.stored(store, uniqueTarget())).toEqual([]);
    });
  });

  describe(`GreetingQueue contract (${kind})`, () => {
    let queue: GreetingQueue;
    beforeAll(async () => {
      queue = fixture.queue();
      await queue.connect();
    });
    afterAll(() => queue.close());

    test('is ready once connected', () => {
      expect(queue.isReady()).toBe(true);
    });

    test('delivers a published greeting with its id and headers; an acked message is gone', async () => {
      const name = uniqueQueue();
      const [g] = greetings(1) as [Greeting];
      const headers = { 'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' };
      const first = recorder();
      const sub = await queue.consume(name, 4, first.handler);
      await queue.publish(name, g, headers);
      await waitUntil(async () => expect(first.seen).toHaveLength(1), 5_000, 'no delivery');
      await sub.cancel();
      const d = first.seen[0]!;
      expect(JSON.parse(d.body)).toEqual(g);
      expect(d.messageId).toBe(g.id);
      expect(d.headers).toMatchObject(headers);
      expect(d.redelivered).toBe(false);

      const again = recorder();
      const sub2 = await queue.consume(name, 4, again.handler);
      await Bun.sleep(300);
      await sub2.cancel();
      expect(again.seen).toHaveLength(0);
    });

    test('a greeting published before anyone consumes arrives with its id and headers', async () => {
      const name = uniqueQueue();
      const gs = greetings(3);
      const headers = (i: number) => ({ 'x-request-id': `req-${i}`, 'x-b3-traceid': `463ac35c9f6413ad48485a3953bb612${i}`, 'x-b3-sampled': '' });
      for (const [i, g] of gs.entries()) await queue.publish(name, g, headers(i));
      const r = recorder();
      const sub = await queue.consume(name, 4, r.handler);
      await waitUntil(async () => expect(r.seen).toHaveLength(3), 5_000, 'not all delivered');
      await sub.cancel();
      expect(r.seen.map((d) => JSON.parse(d.body))).toEqual(gs);
      expect(r.seen.map((d) => d.messageId)).toEqual(gs.map((g) => g.id));
      for (const [i, d] of r.seen.entries()) expect(d.headers).toMatchObject(headers(i));
      expect(r.seen.map((d) => d.redelivered)).toEqual([false, false, false]);
    });

    test('keeps publish order for a single consumer and acks every message once', async () => {
      const name = uniqueQueue();
      const gs = greetings(20);
      for (const g of gs) await queue.publish(name, g, {});
      const r = recorder();
      const sub = await queue.consume(name, 5, r.handler);
      await waitUntil(async () => expect(r.seen).toHaveLength(20), 5_000, 'not all delivered');
      await Bun.sleep(100);
      await sub.cancel();
      expect(r.seen.map((d) => d.messageId)).toEqual(gs.map((g) => g.id));
    });

    test('a requeued message comes back, marked redelivered, after a delay', async () => {
      const name = uniqueQueue();
      const [g] = greetings(1) as [Greeting];
      const times: number[] = [];
      const r = recorder((_d, seen) => {
        times.push(performance.now());
        return seen.length === 1 ? { action: 'requeue', reason: 'store unavailable' } : { action: 'ack' };
      });
      const sub = await queue.consume(name, 4, r.handler);
      await queue.publish(name, g, {});
      await waitUntil(async () => expect(r.seen).toHaveLength(2), 10_000, 'not redelivered');
      await Bun.sleep(300);
      await sub.cancel();
      expect(r.seen).toHaveLength(2);
      expect(r.seen.map((d) => d.messageId)).toEqual([g.id, g.id]);
      expect(r.seen[1]!.redelivered).toBe(true);
      // Both implementations wait before handing a requeued message back, so a failing store is not hammered in a tight loop.
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(150);
    });

    test('a dead-lettered message keeps its reason and the messages behind it are still handled', async () => {
      const name = uniqueQueue();
      const gs = greetings(3);
      const r = recorder((d) => {
        try {
          JSON.parse(d.body);
          return { action: 'ack' };
        } catch {
          return { action: 'dead-letter', reason: 'body is not JSON' };
        }
      });
      const sub = await queue.consume(name, 4, r.handler);
      await fixture.rawPublish(name, 'this is not JSON {');
      for (const g of gs) await queue.publish(name, g, {});
      await waitUntil(async () => expect(r.seen).toHaveLength(4), 5_000, 'not all delivered');
      await waitUntil(async () => expect(await fixture.deadLetters(queue, name)).toHaveLength(1), 5_000, 'nothing dead-lettered');
      await sub.cancel();
      expect(await fixture.deadLetters(queue, name)).toEqual([{ body: 'this is not JSON {', reason: 'body is not JSON' }]);
      // Reading the dead letters does not consume them.
      expect(await fixture.deadLetters(queue, name)).toHaveLength(1);
      expect(r.seen.filter((d) => d.messageId !== undefined).map((d) => d.messageId)).toEqual(gs.map((g) => g.id));
    });

    test('never has more than `prefetch` messages in flight per consumer', async () => {
      const name = uniqueQueue();
      const gs = greetings(10);
      for (const g of gs) await queue.publish(name, g, {});
      let inFlight = 0;
      let maxInFlight = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const r = recorder(async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await gate;
        inFlight--;
        return { action: 'ack' };
      });
      const sub = await queue.consume(name, 3, r.handler);
      await waitUntil(async () => expect(r.seen).toHaveLength(3), 5_000, 'prefetch not filled');
      // Long enough for a broker that ignored the bound to push more.
      await Bun.sleep(300);
      expect(r.seen).toHaveLength(3);
      release();
      await waitUntil(async () => expect(r.seen).toHaveLength(10), 5_000, 'not all delivered after release');
      await sub.cancel();
      expect(maxInFlight).toBe(3);
    });

    if (fixture.broker) {
      const broker = fixture.broker;
      test(
        'publish rejects with a reason while the broker is down, and works again once it is back',
        async () => {
          const name = uniqueQueue();
          const [before, during, after] = greetings(3) as [Greeting, Greeting, Greeting];
          await queue.publish(name, before, {});
          await broker.stop();
          await waitUntil(async () => expect(queue.isReady()).toBe(false), 5_000, 'still ready with the broker down');
          const refused = await queue.publish(name, during, {}).then(
            () => undefined,
            (err: Error) => err,
          );
          expect(refused).toBeInstanceOf(Error);
          expect(refused!.message).toMatch(/RabbitMQ/);
          expect(refused!.message).not.toContain('guest:guest');
          await broker.start();
          await waitUntil(async () => expect(queue.isReady()).toBe(true), 15_000, 'not ready after the broker returned');
          await queue.publish(name, after, {});
          const r = recorder();
          const sub = await queue.consume(name, 4, r.handler);
          await waitUntil(async () => expect(r.seen).toHaveLength(2), 5_000, 'confirmed messages missing after the restart');
          await Bun.sleep(200);
          await sub.cancel();
          // Confirmed before the stop (persistent, durable queue) and after the restart: both there; the refused one is not.
          expect(r.seen.map((d) => d.messageId)).toEqual([before.id, after.id]);
        },
        60_000,
      );
    }
  });
}

// -- In-memory backends: always available.
{
  const memoryQueues: MemoryQueue[] = [];
  contract('in-memory', BUN_SUITE, {
    store: () => new MemoryStore(),
    stored: async (store, target) => inMemoryStore(store as MemoryStore, target),
    deadLetters: async (queue, name) => inMemoryDeadLetters(queue as MemoryQueue, name),
    queue: () => {
      const q = new MemoryQueue();
      memoryQueues.push(q);
      return q;
    },
    rawPublish: async (queue, body) => {
      for (const q of memoryQueues) q.put(queue, body);
    },
  });
}

// -- Real backends: MongoDB protocol and RabbitMQ.
// The broker is one the harness owns (never RABBITMQ_CONN): the contract stops and restarts it.
await describeWithBackends('real backends', { mongo: 'use', rabbit: 'control' }, ({ mongo, rabbit }, suite) => {
  contract('MongoDB protocol, RabbitMQ', suite, {
    store: () => new MongoStore(mongo!.url),
    stored: (_, target) => inMongo(mongo!.url, target),
    deadLetters: (_, name) => inRabbitDeadLetters(rabbit!.url, name),
    // Short reconnect and confirm limits keep the broker-down test quick; production defaults are longer.
    queue: () => new RabbitQueue(rabbit!.url, { reconnect: { initialMs: 100, maxMs: 1_000 }, confirmTimeoutMs: 3_000 }),
    rawPublish: async (queue, body) => {
      const connection = await amqpConnect(rabbit!.url);
      try {
        const channel = await connection.createConfirmChannel();
        channel.sendToQueue(queue, Buffer.from(body));
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
    },
    broker: rabbit,
  });
});

test('no unhandled promise rejections', () => {
  expect(unhandled).toEqual([]);
});
