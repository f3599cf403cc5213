/**
 * What a store or a queue holds, read from the test's side: straight from MongoDB (in the original's field names) and from
 * RabbitMQ's dead-letter queue, or from the embedded backends' memory. Production code has no such readers.
 */
import { connect as amqpConnect } from 'amqplib';
import { MongoClient } from 'mongodb';
import { collectionName } from '../../src/config/facts';
import type { StoreTarget } from '../../src/config/schema';
import type { Greeting } from '../../src/greeting';
import { DEATH_REASON_HEADER, deadLetterQueue } from '../../src/backends/rabbitmq/queue';
import type { MemoryQueue } from '../../src/backends/memory-queue';
import type { MemoryStore } from '../../src/backends/memory-store';

export interface DeadLetter {
  body: string;
  reason: string;
}

/** The greetings an embedded store holds in a target, oldest first. */
export function inMemoryStore(store: MemoryStore, target: StoreTarget): Greeting[] {
  return store.collections.get(collectionName(target))?.greetings() ?? [];
}

/** The greetings a MongoDB-protocol server holds in a target, oldest first, read back into the API's shape. */
export async function inMongo(url: string, target: StoreTarget): Promise<Greeting[]> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    const docs = await client.db(target.database).collection(target.collection).find({}, { projection: { _id: 0 } }).sort({ createdat: 1, _id: 1 }).toArray();
    return docs.map((d) => ({
      id: String(d.id),
      service: String(d.servicename),
      message: String(d.message),
      created: d.createdat instanceof Date ? d.createdat.toISOString() : String(d.createdat),
      hostname: String(d.hostname),
      ...(d.version ? { version: String(d.version) } : {}),
    }));
  } finally {
    await client.close();
  }
}

export function inMemoryDeadLetters(queue: MemoryQueue, name: string): DeadLetter[] {
  return [...(queue.deadLettered.get(name) ?? [])];
}

/** The dead letters of a queue on a broker, with their reasons; read without acknowledging, so they stay where they are. */
export async function inRabbitDeadLetters(url: string, name: string): Promise<DeadLetter[]> {
  const connection = await amqpConnect(url);
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    const letters: DeadLetter[] = [];
    for (;;) {
      const msg = await channel.get(deadLetterQueue(name), { noAck: false });
      if (!msg) break;
      const reason = msg.properties.headers?.[DEATH_REASON_HEADER];
      letters.push({ body: msg.content.toString('utf8'), reason: reason === undefined ? 'unknown' : Buffer.isBuffer(reason) ? reason.toString('utf8') : String(reason) });
    }
    // Closing the channel puts every unacknowledged message back, in order.
    await channel.close();
    return letters;
  } finally {
    await connection.close();
  }
}
