/**
 * Did every greeting reach its store? Two views: the roles' own counters from /api/metrics (published and confirmed by the
 * broker on D, consumed and acked after storing on F), polled until the queue has drained; and the database itself, where
 * each collection must have gained one document per greeting of its roles that the answers carried (stored = answered).
 */
import { collectionName } from '../src/config/facts';
import type { PlatformConfig } from '../src/config/schema';

export interface DataPlaneCheck {
  /** Since the roles started (warm-up included): confirmed by the broker on D, acked after storing on F. */
  published: number;
  stored: number;
  /** True when stored caught up with published before the deadline. */
  drained: boolean;
  /** Milliseconds from the end of the load until stored matched published (or the deadline). */
  drainMs: number;
}

/** Sum of every sample of `metric` whose labels include all of `labels`, from Prometheus text exposition. */
export function sumMetric(text: string, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const labelText = line.slice(metric.length).startsWith('{') ? line.slice(metric.length + 1, line.lastIndexOf('}')) : '';
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function metricsOf(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/metrics`);
  if (!response.ok) throw new Error(`${baseUrl}/api/metrics answered ${response.status}`);
  return response.text();
}

/**
 * Polls both counters until they are equal and have not moved since the previous poll: requests still in flight when the load
 * generator stopped keep publishing for a moment, so one equal reading is not yet the end.
 */
export async function awaitDrained(publisherUrl: string, consumerUrl: string, timeoutMs: number): Promise<DataPlaneCheck> {
  const started = performance.now();
  let previous = { published: -1, stored: -1 };
  for (;;) {
    const published = sumMetric(await metricsOf(publisherUrl), 'amqp_messages_published_total', { result: 'confirmed' });
    const stored = sumMetric(await metricsOf(consumerUrl), 'amqp_messages_consumed_total', { disposition: 'acked' });
    const drainMs = Math.round(performance.now() - started);
    const settled = stored === published && published === previous.published && stored === previous.stored;
    if (settled || drainMs >= timeoutMs) return { published, stored, drained: settled, drainMs };
    previous = { published, stored };
    await Bun.sleep(250);
  }
}

/** A collection and the roles whose greetings land in it: a role's own store, or the store of the role consuming its queue. */
export interface StoredCollection {
  name: string;
  database: string;
  collection: string;
  roles: string[];
}

export function storedCollections(config: PlatformConfig): StoredCollection[] {
  const found: StoredCollection[] = [];
  for (const [id, role] of Object.entries(config.services)) {
    if (role.store) found.push({ name: collectionName(role.store), ...role.store, roles: [id] });
    if (role.consume) {
      const publishers = Object.keys(config.services).filter((p) => config.services[p]!.publish?.queue === role.consume!.queue);
      found.push({ name: collectionName(role.consume.store), ...role.consume.store, roles: publishers });
    }
  }
  return found;
}

export interface StoredCheck {
  collection: string;
  roles: string[];
  /** Greetings of these roles in the answers. */
  answered: number;
  /** Documents the collection gained meanwhile. */
  stored: number;
  /**
   * Whether the greetings of the last exact answer are in the collection under their ids, in the original's field names
   * (`servicename`, `createdat`, ...); undefined when no answer was exact.
   */
  sampleFound?: boolean;
}

/** Documents per collection, asked of the database itself (the MongoDB driver is loaded only for real data planes). */
export async function countCollections(mongoUrl: string, collections: StoredCollection[]): Promise<number[]> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
  try {
    return await Promise.all(collections.map((c) => client.db(c.database).collection(c.collection).countDocuments()));
  } finally {
    await client.close();
  }
}

/** Whether each collection holds, in the original's field names, the greeting of its role with the id given. */
export async function samplesStored(mongoUrl: string, collections: StoredCollection[], ids: Record<string, string>): Promise<boolean[]> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
  try {
    return await Promise.all(
      collections.map(async (c) => {
        const found = await Promise.all(
          c.roles.map(async (role) => {
            const id = ids[role];
            if (!id) return false;
            const doc = await client.db(c.database).collection(c.collection).findOne({ id });
            return Boolean(doc && typeof doc.servicename === 'string' && typeof doc.message === 'string' && doc.createdat && typeof doc.hostname === 'string');
          }),
        );
        return found.every(Boolean);
      }),
    );
  } finally {
    await client.close();
  }
}
