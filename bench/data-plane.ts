/**
 * Did every greeting D published reach F's store? Reads the two roles' own counters from /api/metrics (published and confirmed
 * by the broker on D, consumed and acked after storing on F) and waits for the queue to drain until they match.
 */

export interface DataPlaneCheck {
  /** Since the roles started (warm-up included): confirmed by the broker on D, acked after storing on F. */
  published: number;
  stored: number;
  /** Documents that appeared in F's collection during the scenario, counted in the database itself. */
  documents?: number;
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

/** Documents in one collection, asked of the database itself (the MongoDB driver is loaded only for real data planes). */
export async function countDocuments(mongoUrl: string, database: string, collection: string): Promise<number> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
  try {
    return await client.db(database).collection(collection).countDocuments();
  } finally {
    await client.close();
  }
}
