/**
 * MongoStore against a real MongoDB-protocol server that the test stops and starts: what a storing role sees when the database
 * goes away (a clear, credential-free reason quickly, readiness false) and comes back (the same client recovers by itself).
 *
 * FerretDB (the local stand-in for MongoDB) differs from MongoDB in ways these tests avoid relying on: it reports itself as a
 * standalone server (mongo:7 in a container is a one-member replica set, hence directConnection there), keeps its data in SQLite
 * files that survive a restart like MongoDB's data directory does, and answers a unique-index violation with the same code 11000.
 */
import { expect, test } from 'bun:test';
import { MongoClient } from 'mongodb';
import { MongoStore, StoreUnavailableError } from '../../src/backends/mongo-store';
import type { StoreTarget } from '../../src/config/schema';
import { makeGreeting } from '../../src/greeting';
import { describeWithBackends, freePort, waitUntil } from '../support/backends';
import { inMongo } from '../support/stored';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

const target = (collection: string): StoreTarget => ({ database: 'service-f', collection: `${collection}-${Date.now()}` });

await describeWithBackends('MongoStore on a real server', { mongo: 'control' }, ({ mongo }, { test, afterAll }) => {
  const server = mongo!;
  const stores: MongoStore[] = [];
  // Fast probes so the outage and the recovery show within a second or two; production keeps the defaults (3 s, 2 s).
  const newStore = (url = server.url) => {
    const store = new MongoStore(url, { serverSelectionTimeoutMS: 1_500, heartbeatFrequencyMS: 500 });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  test("stores documents with the original platform's field names, `createdat` as a BSON date, and a unique index on id", async () => {
    const store = newStore();
    await store.connect();
    const where = target('messages');
    const g = makeGreeting('service-d', 'Hello from service D');
    expect(await store.insert(where, g)).toBe('stored');

    const client = new MongoClient(server.url);
    try {
      const collection = client.db(where.database).collection(where.collection);
      const docs = await collection.find({}).toArray();
      expect(docs).toHaveLength(1);
      const { _id, ...fields } = docs[0]!;
      // What the original's readers (mongo-express, its blog posts' queries) expect: {id, servicename, message, createdat, hostname}.
      expect(fields).toEqual({ id: g.id, servicename: g.service, message: g.message, createdat: new Date(g.created), hostname: g.hostname });
      expect(fields.createdat).toBeInstanceOf(Date);
      const indexes = await collection.indexes();
      expect(indexes.find((i) => i.name === 'id_unique')).toMatchObject({ key: { id: 1 }, unique: true });
    } finally {
      await client.close();
    }
  });

  test(
    'while the server is down an insert rejects quickly with a reason and readiness is false; the same client recovers',
    async () => {
      const store = newStore();
      await store.connect();
      const where = target('greetings');
      const [before, during] = [makeGreeting('service-c', 'Hello from C'), makeGreeting('service-c', 'Hello again')];
      expect(await store.insert(where, before)).toBe('stored');
      expect(store.isReady()).toBe(true);

      await server.stop();
      const t0 = performance.now();
      const err = await store.insert(where, during).then(
        () => undefined,
        (e: unknown) => e,
      );
      const took = performance.now() - t0;
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toContain(`insert into ${where.database}.${where.collection}`);
      // Bounded by serverSelectionTimeoutMS (1.5 s here), not the driver's 30 s default: the role answers 503 while A still waits.
      expect(took).toBeLessThan(5_000);
      await waitUntil(async () => expect(store.isReady()).toBe(false), 5_000, 'still ready with the server down');

      await server.start();
      await waitUntil(async () => expect(store.isReady()).toBe(true), 10_000, 'not ready again after the server returned');
      expect(await store.insert(where, during)).toBe('stored');
      // A retry of the insert that had failed is harmless: it is recognised, not stored twice.
      expect(await store.insert(where, during)).toBe('duplicate');
      expect((await inMongo(server.url, where)).map((g) => g.id)).toEqual([before.id, during.id]);
    },
    30_000,
  );

  test(
    'a store that could not connect at start-up connects by itself once the server is there',
    async () => {
      // SIGKILL: nothing graceful about a database that was never there.
      await server.stop('kill');
      const store = newStore();
      const err = await store.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(store.isReady()).toBe(false);
      await server.start();
      // Nothing is written meanwhile: readiness must come back on its own, or a probe-gated pod would never get traffic.
      await waitUntil(async () => expect(store.isReady()).toBe(true), 10_000, 'never connected by itself');
      const where = target('late');
      const g = makeGreeting('service-g', 'Hello from G');
      expect(await store.insert(where, g)).toBe('stored');
    },
    30_000,
  );

  test('errors never carry the password from the connection URL', async () => {
    const port = await freePort();
    const store = newStore(`mongodb://greeter:s3cret-Passw0rd@127.0.0.1:${port}/?authSource=admin&serverSelectionTimeoutMS=300`);
    const err = (await store.connect().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err.message).not.toContain('s3cret-Passw0rd');
    const insertErr = (await store.insert(target('x'), makeGreeting('service-h', 'hi')).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(insertErr.message).not.toContain('s3cret-Passw0rd');
  });
});

test('no unhandled promise rejections', () => {
  expect(unhandled).toEqual([]);
});
