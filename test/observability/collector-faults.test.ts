/**
 * Trace collectors that fail, which a real Jaeger cannot be made to do on demand: one that refuses every batch (the Zipkin
 * stand-in answering 503) and one that is gone (its port closed). Either way the platform keeps answering 200, every role
 * counts the spans it lost (tracing_spans_exported_total{result="failed"}) and says so in its log; once a collector is back at
 * the same address, the next trace arrives whole, with no restart. The eight roles run as processes of the compiled binary.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { freePort, ProcessPlatform } from '../../src/platform/processes';
import { serviceBinary } from '../../scripts/artifacts';
import { eventually } from '../support/eventually';
import { zipkinCollector, type ZipkinCollector } from '../support/zipkin-collector';
import { scrapeAll } from './expected-counts';
import { total } from './prom-text';
import { spansPerRequest, traceProblems } from './trace-shape';

const { config } = loadConfig();
const HTTP_ONLY = { queueLeg: false };
/** The roles a request to A reaches without a shared queue (each process has its own in-memory one here). */
const ROLES = Object.keys(config.services).filter((id) => !config.services[id]!.consume);
// A port below the ephemeral range, so that while the collector is gone no outgoing connection can take its address.
let collector: ZipkinCollector = zipkinCollector({ port: await freePort() });
let platform: ProcessPlatform;

beforeAll(async () => {
  platform = new ProcessPlatform(config, {
    command: [serviceBinary()],
    env: { ZIPKIN_URL: collector.url, TRACE_SAMPLE_RATIO: '1', LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' },
  });
  await platform.start();
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  collector.stop();
});

const answers = async (n: number) =>
  Promise.all(
    Array.from({ length: n }, async () => {
      const response = await fetch(`${platform.url('a')}/api/greeting`);
      await response.arrayBuffer();
      return { status: response.status, traceId: response.headers.get('x-b3-traceid')! };
    }),
  );

const failedSpans = async () => {
  const scrapes = await scrapeAll(config, (id) => platform.url(id));
  return Object.fromEntries(ROLES.map((id) => [id, total(scrapes.get(id)!, 'tracing_spans_exported_total', { result: 'failed' })]));
};

/** Waits (batches leave about once a second) until every role has lost more spans than in `before`; returns the roles that had not. */
async function rolesNotFailing(before: Record<string, number>): Promise<string[]> {
  let now = await failedSpans();
  for (const deadline = Date.now() + 8_000; ROLES.some((id) => now[id]! <= before[id]!) && Date.now() < deadline; await Bun.sleep(200))
    now = await failedSpans();
  return ROLES.filter((id) => now[id]! <= before[id]!);
}

describe('trace collectors that refuse or are gone', () => {
  test('a collector that refuses every batch: requests answer 200, every role counts and logs the lost spans', async () => {
    collector.refuse(503);
    const before = await failedSpans();
    expect((await answers(3)).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await rolesNotFailing(before)).toEqual([]);
    const warned = () => ROLES.filter((id) => platform.output.get(id)!.some((line) => line.includes('spans not accepted by the trace collector')));
    // A role counts the lost batch, then logs it: the scrape that saw the count may be read before the line's pipe.
    await eventually(() => warned().length === ROLES.length, 'every role logs the lost spans').catch(() => undefined);
    expect(warned()).toEqual(ROLES);
    expect(collector.spans).toEqual([]);
  }, 20_000);

  test('a collector that is gone (its port closed): requests answer 200, every role counts the lost spans', async () => {
    collector.stop();
    const before = await failedSpans();
    expect((await answers(3)).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await rolesNotFailing(before)).toEqual([]);
  }, 20_000);

  test('a collector back at the same address receives the next trace whole, with no role restarted', async () => {
    collector = zipkinCollector({ port: collector.port });
    const { status, traceId } = (await answers(1))[0]!;
    expect(status).toBe(200);
    const want = spansPerRequest(config, HTTP_ONLY);
    await collector.waitFor(() => collector.trace(traceId).length >= want, 5_000);
    expect(traceProblems(config, collector.trace(traceId), HTTP_ONLY)).toEqual([]);
    expect(collector.trace(traceId)).toHaveLength(want);
  }, 20_000);
});
