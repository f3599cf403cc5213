/**
 * RabbitQueue against a real broker that the test kills, restarts and freezes: the publisher is refused (never silently dropped)
 * while the broker is away, the consumer comes back by itself, and nothing confirmed is lost.
 */
import { expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { DEATH_REASON_HEADER, QueueUnavailableError, RabbitQueue, deadLetterQueue } from '../../src/backends/rabbitmq/queue';
import type { Delivery } from '../../src/backends/types';
import { makeGreeting, type Greeting } from '../../src/greeting';
import { connect as amqpConnect } from 'amqplib';
import { describeWithBackends, freePort, waitUntil } from '../support/backends';
import { inRabbitDeadLetters } from '../support/stored';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

const uniqueQueue = () => `rabbit-test-${randomUUID().slice(0, 8)}`;
const batch = (n: number, tag: string): Greeting[] => Array.from({ length: n }, (_, i) => makeGreeting('service-d', `${tag} #${i}`));

await describeWithBackends('RabbitQueue on a real broker', { rabbit: 'control' }, ({ rabbit }, { test, afterAll }) => {
  const broker = rabbit!;
  const queues: RabbitQueue[] = [];
  // Reconnect fast (cap 1 s) so the tests spend their time on the broker's restart, not on backoff.
  const newQueue = (url = broker.url, extra: ConstructorParameters<typeof RabbitQueue>[1] = {}) => {
    const queue = new RabbitQueue(url, { reconnect: { initialMs: 100, maxMs: 1_000 }, confirmTimeoutMs: 2_000, ...extra });
    queues.push(queue);
    return queue;
  };
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
  });

  test(
    'a broker stopped mid-stream: publishing is refused while it is down, the same subscription resumes, nothing confirmed is lost',
    async () => {
      const name = uniqueQueue();
      const publisher = newQueue();
      const consumer = newQueue();
      await Promise.all([publisher.connect(), consumer.connect()]);

      // The first batch is held by the handler until the broker is gone, so its acks can never reach the broker.
      let releaseHeld!: () => void;
      const held = new Promise<void>((resolve) => (releaseHeld = resolve));
      const first = batch(10, 'before');
      const firstIds = new Set(first.map((g) => g.id));
      const deliveries: Delivery[] = [];
      const subscription = await consumer.consume(name, 16, async (d) => {
        deliveries.push(d);
        if (firstIds.has(d.messageId!) && !d.redelivered) await held;
        return { action: 'ack' };
      });
      for (const g of first) await publisher.publish(name, g, {});
      await waitUntil(async () => expect(deliveries).toHaveLength(10), 5_000, 'first batch not delivered');

      // A clean stop (the broker's own shutdown, as on a rolling restart): the client still loses its connection at once. A SIGKILL
      // of the broker was tried here and, on a loaded machine, RabbitMQ 3.10 sometimes lost confirmed messages that a consumer
      // held unacked; that is the broker's durability, not this client's, and made the test flaky (our reconnect path is the
      // same either way; F's own SIGKILL is in test/faults).
      await broker.stop('graceful');
      releaseHeld();
      await waitUntil(async () => expect([publisher.isReady(), consumer.isReady()]).toEqual([false, false]), 5_000, 'still ready');
      const refused = await publisher.publish(name, makeGreeting('service-d', 'while down'), {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(QueueUnavailableError);
      expect((refused as Error).message).toMatch(/^RabbitMQ is not available: /);
      // A process starting now (D or F during the outage) is refused at connect() but keeps trying on its own.
      const late = newQueue(broker.url, { connectTimeoutMs: 300 });
      expect(await late.connect().then(() => 'connected', (e: Error) => e.message)).toMatch(/^RabbitMQ not reachable within 300 ms/);

      await broker.start();
      await waitUntil(
        async () => expect([publisher.isReady(), consumer.isReady(), late.isReady()]).toEqual([true, true, true]),
        15_000,
        'not ready again',
      );
      const second = batch(10, 'after');
      for (const g of second) await publisher.publish(name, g, {});

      // Every confirmed message arrives: the unacked first batch again, the second batch once. The first batch is counted by
      // arrival after the stop, not by the redelivered flag, which the broker may or may not have recorded.
      const secondIds = new Set(second.map((g) => g.id));
      const received = () => ({
        firstRedelivered: new Set(deliveries.slice(first.length).filter((d) => firstIds.has(d.messageId!)).map((d) => d.messageId)).size,
        second: deliveries.filter((d) => secondIds.has(d.messageId!)).length,
      });
      await waitUntil(async () => expect(received()).toEqual({ firstRedelivered: 10, second: 10 }), 10_000, 'messages missing after the restart');
      await Bun.sleep(200);
      expect(received()).toEqual({ firstRedelivered: 10, second: 10 });
      await subscription.cancel();
    },
    60_000,
  );

  test(
    'publish rejects when the broker does not confirm in time (a frozen broker)',
    async () => {
      const name = uniqueQueue();
      const publisher = newQueue(broker.url, { confirmTimeoutMs: 1_000 });
      await publisher.connect();
      await publisher.publish(name, makeGreeting('service-d', 'warm-up'), {});
      await broker.pause();
      try {
        const t0 = performance.now();
        const err = await publisher.publish(name, makeGreeting('service-d', 'unconfirmed'), {}).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(QueueUnavailableError);
        expect((err as Error).message).toBe('RabbitMQ did not confirm within 1000 ms');
        expect(performance.now() - t0).toBeLessThan(3_000);
      } finally {
        await broker.resume();
      }
      await publisher.publish(name, makeGreeting('service-d', 'after the freeze'), {});
    },
    20_000,
  );

  test('connect() and publish() reject with a reason when no broker answers, never showing the password', async () => {
    const port = await freePort();
    const queue = newQueue(`amqp://greeter:s3cret-Passw0rd@127.0.0.1:${port}`, { connectTimeoutMs: 500 });
    const err = (await queue.connect().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(QueueUnavailableError);
    expect(err.message).toMatch(/RabbitMQ not reachable within 500 ms: .*ECONNREFUSED/);
    expect(err.message).not.toContain('s3cret-Passw0rd');
    expect(queue.isReady()).toBe(false);
    const publishErr = (await queue.publish('q', makeGreeting('service-d', 'x'), {}).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(publishErr).toBeInstanceOf(QueueUnavailableError);
    expect(publishErr.message).not.toContain('s3cret-Passw0rd');
  });

  test('declares a durable queue, its dead-letter exchange and queue; dead letters carry the reason header', async () => {
    const name = uniqueQueue();
    const queue = newQueue();
    await queue.connect();
    const [g] = batch(1, 'poison') as [Greeting];
    const subscription = await queue.consume(name, 2, async () => ({ action: 'dead-letter', reason: 'not a greeting: id is not a uuid v4' }));
    await queue.publish(name, g, { 'x-b3-traceid': 'abc' });
    await waitUntil(async () => expect(await inRabbitDeadLetters(broker.url, name)).toHaveLength(1), 5_000, 'not dead-lettered');
    await subscription.cancel();

    // Look at the broker's side with a plain client: the topology is durable and the copy keeps the id, headers and reason.
    const { connect } = await import('amqplib');
    const connection = await connect(broker.url);
    try {
      const channel = await connection.createChannel();
      const main = await channel.checkQueue(name);
      const dead = await channel.checkQueue(deadLetterQueue(name));
      expect(main.messageCount).toBe(0);
      expect(dead.messageCount).toBe(1);
      const msg = await channel.get(deadLetterQueue(name), { noAck: true });
      expect(msg && msg.properties.messageId).toBe(g.id);
      expect(msg && msg.properties.headers?.[DEATH_REASON_HEADER]).toBe('not a greeting: id is not a uuid v4');
      expect(msg && msg.properties.headers?.['x-b3-traceid']).toBe('abc');
      expect(msg && msg.properties.deliveryMode).toBe(2);
      expect(msg && msg.properties.contentType).toBe('application/json');
    } finally {
      await connection.close();
    }
  });

  test(
    "a queue the original platform declared (non-durable) is named with what to do, in readiness and the log; deleting it heals",
    async () => {
      const name = uniqueQueue();
      // What the original's D and F do on every request: QueueDeclare(name, durable=false, ...), no arguments.
      const original = await amqpConnect(broker.url);
      const channel = await original.createChannel();
      await channel.assertQueue(name, { durable: false });
      const lines: string[] = [];
      const publisher = newQueue(broker.url, { log: { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) } });
      await publisher.connect();
      const expected = `queue '${name}' already exists on the broker with durable 'false' where greeting-mesh declares 'true'`;
      const refused = (await publisher.publish(name, makeGreeting('service-d', 'refused'), {}).catch((e: Error) => e)) as Error;
      expect(refused).toBeInstanceOf(QueueUnavailableError);
      expect(refused.message).toStartWith(expected);
      expect(refused.message).toContain(`rabbitmqctl delete_queue ${name}`);
      expect(refused.message).toContain('QUEUE_NAME');
      await waitUntil(async () => expect(publisher.notReadyReason()).toStartWith(expected), 10_000, 'readiness does not say why');
      expect(publisher.isReady()).toBe(false);
      expect(lines.filter((l) => l.startsWith(`error ${expected}`))).toHaveLength(1);

      await channel.deleteQueue(name);
      await original.close();
      await waitUntil(async () => expect(publisher.isReady()).toBe(true), 15_000, 'not ready after the old queue was deleted');
      await publisher.publish(name, makeGreeting('service-d', 'after the migration'), {});
    },
    40_000,
  );
});

test('no unhandled promise rejections', () => {
  expect(unhandled).toEqual([]);
});
