/**
 * The platform against production's faults, with real servers: the eight roles as processes of the compiled binary on a real
 * RabbitMQ and a real MongoDB-protocol server, which the tests stop, kill and restart. Each test ends with exact counts in
 * `service-f.messages`: every greeting D answered 200 for is stored exactly once.
 *
 * FerretDB vs MongoDB: the code relies on a unique index on `id` and on duplicate-key error 11000 to recognise a redelivery;
 * FerretDB implements both like MongoDB does (the data-plane contract tests check it), so nothing here depends on the difference.
 */
import { expect } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { connect as amqpConnect } from 'amqplib';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { describeWithBackends, waitUntil } from '../support/backends';
import { inRabbitDeadLetters } from '../support/stored';
import { serviceBinary } from '../../scripts/artifacts';

type Entry = { id?: string; service: string; error?: string };

await describeWithBackends('the platform against broker, consumer and database faults', { mongo: 'control', rabbit: 'control' }, ({ mongo, rabbit }, { test, beforeAll, afterAll, beforeEach }) => {
  const queue = `faults-${randomUUID().slice(0, 8)}`;
  let platform: ProcessPlatform;
  let client: MongoClient;
  const messages = () => client.db('service-f').collection('messages');

  beforeAll(async () => {
    client = new MongoClient(mongo!.url, { serverSelectionTimeoutMS: 20_000 });
    platform = new ProcessPlatform(loadConfig().config, {
      command: [serviceBinary()],
      env: {
        MONGO_CONN: mongo!.url,
        RABBITMQ_CONN: rabbit!.url,
        QUEUE_NAME: queue,
        DRAIN_DELAY_MS: '0',
        UPSTREAM_TIMEOUT_MS: '8000',
        LOG_LEVEL: 'warn',
      },
    });
    await platform.start(30_000);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await client?.close();
  });

  // A test starts once the previous one's fault has healed: every role ready, so D and F are connected again.
  beforeEach(async () => {
    await Promise.all([...platform.roles.keys()].map((id) => platform.waitReady(id, 30_000)));
  }, 40_000);

  /** Sends `total` greetings through A, `concurrency` at a time; `during(sent)` runs once after each request. */
  async function drive(total: number, concurrency: number, during: (sent: number) => Promise<void> | void = () => undefined) {
    const accepted: string[] = [];
    const refusals: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    const worker = async () => {
      while (sent < total) {
        sent++;
        const response = await fetch(`${platform.url('a')}/api/greeting`);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const d = ((await response.json()) as Entry[]).find((e) => e.service === 'Service D')!;
        if (d.id) accepted.push(d.id);
        else refusals.push(d.error!);
        await during(sent);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { accepted, refusals, statuses };
  }

  /** Waits until F has stored every accepted greeting, then checks each is there exactly once. */
  async function expectStoredOnce(accepted: string[], timeoutMs = 60_000) {
    await waitUntil(
      async () => expect(await messages().countDocuments({ id: { $in: accepted } })).toBe(accepted.length),
      timeoutMs,
      () => `F did not store all ${accepted.length} accepted greetings`,
    );
    const stored = await messages().find({ id: { $in: accepted } }, { projection: { id: 1 } }).toArray();
    expect(stored).toHaveLength(accepted.length);
    expect(new Set(stored.map((s) => s.id)).size).toBe(accepted.length);
  }

  async function metric(role: string, name: string, labels: string): Promise<number> {
    const text = await (await fetch(`${platform.url(role)}/api/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  test('a poison message is dead-lettered with its reason, and the greetings behind it are stored', async () => {
    const connection = await amqpConnect(rabbit!.url);
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(queue, Buffer.from('this is not json'), { persistent: true });
    channel.sendToQueue(queue, Buffer.from(JSON.stringify({ id: 'nope', service: 'Service D' })), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();
    const { accepted } = await drive(20, 4);
    expect(accepted).toHaveLength(20);
    await expectStoredOnce(accepted);

    const letters = await inRabbitDeadLetters(rabbit!.url, queue);
    expect(letters.map((l) => l.body)).toEqual(['this is not json', JSON.stringify({ id: 'nope', service: 'Service D' })]);
    expect(letters[0]!.reason).toStartWith('body is not JSON');
    expect(letters[1]!.reason).toBe('not a greeting: id is not a uuid v4');
    expect(await metric('f', 'amqp_messages_consumed_total', 'disposition="dead_lettered"')).toBe(2);
  }, 60_000);

  test('2,000 greetings while RabbitMQ is stopped and restarted: every one D accepted is stored once, every refusal was a 503', async () => {
    let restart: Promise<void> | undefined;
    const { accepted, refusals, statuses } = await drive(2000, 16, (sent) => {
      if (sent >= 600 && !restart) {
        restart = (async () => {
          await rabbit!.stop('graceful');
          await Bun.sleep(1000);
          await rabbit!.start();
        })();
      }
    });
    await restart;
    expect(accepted.length + refusals.length).toBe(2000);
    expect(refusals.length).toBeGreaterThan(0);
    for (const reason of refusals) expect(reason).toStartWith('answered 503: cannot publish greeting');
    expect(statuses.get(502)).toBe(refusals.length);
    expect(statuses.get(200)).toBe(accepted.length);
    await expectStoredOnce(accepted);
    // A publish whose confirm was lost with the connection is refused (503) although the broker may have kept it: such a
    // greeting may still be stored, but never twice, and never one that was not published by D.
    const everything = await messages().find({}, { projection: { id: 1 } }).toArray();
    expect(new Set(everything.map((s) => s.id)).size).toBe(everything.length);
  }, 180_000);

  test('F killed with SIGKILL mid-stream and restarted: no loss, no duplicate', async () => {
    let restarted: Promise<void> | undefined;
    const { accepted, refusals } = await drive(600, 8, (sent) => {
      if (sent >= 200 && !restarted) {
        restarted = platform.kill('f', 'SIGKILL').then(() => Bun.sleep(500)).then(() => platform.restart('f', 30_000));
      }
    });
    await restarted;
    expect(refusals).toEqual([]);
    await expectStoredOnce(accepted);
  }, 120_000);

  test("MongoDB stopped and restarted: C's error shows at A, F requeues and turns unready, everything acknowledged is stored once", async () => {
    const requeuedBefore = await metric('f', 'amqp_messages_consumed_total', 'disposition="requeued"');
    await mongo!.stop('graceful');
    await waitUntil(async () => expect((await fetch(`${platform.url('c')}/api/ready`)).status).toBe(503), 15_000, 'C stayed ready');

    // Each of these waits out the store's server-selection timeout (3 s) at C, G and H: a few suffice.
    const { accepted, statuses } = await drive(9, 3);
    expect(statuses.get(502)).toBe(9);
    const response = await fetch(`${platform.url('a')}/api/greeting`);
    expect(response.status).toBe(502);
    const body = (await response.json()) as Entry[];
    const c = body.find((e) => e.service === 'Service C')!;
    expect(c.error).toStartWith('answered 503: cannot store greeting in service-c.greetings');
    expect(body.filter((e) => e.id)).toHaveLength(4); // D, E, B and A; C, G and H failed to store
    accepted.push(body.find((e) => e.service === 'Service D')!.id!);

    await waitUntil(async () => expect((await fetch(`${platform.url('f')}/api/ready`)).status).toBe(503), 15_000, 'F stayed ready');
    await waitUntil(
      async () => expect(await metric('f', 'amqp_messages_consumed_total', 'disposition="requeued"')).toBeGreaterThan(requeuedBefore),
      15_000,
      'F did not requeue',
    );

    await mongo!.start();
    for (const role of ['c', 'f']) await platform.waitReady(role, 30_000);
    const whole = await fetch(`${platform.url('a')}/api/greeting`);
    expect(whole.status).toBe(200);
    accepted.push(((await whole.json()) as Entry[]).find((e) => e.service === 'Service D')!.id!);
    await expectStoredOnce(accepted);
  }, 180_000);
});
