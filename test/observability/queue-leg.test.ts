/**
 * The whole trace across eight processes on the real data plane: D publishes to RabbitMQ with its PRODUCER span's B3 context in
 * the AMQP headers, F (another process) consumes it and writes to MongoDB, and F's CONSUMER span lands under D's PRODUCER span in
 * the same trace as the request to A. The servers come from test/support/backends.ts (MONGO_CONN/RABBITMQ_CONN, containers, or
 * local rabbitmq-server and FerretDB).
 */
import { expect } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { describeWithBackends } from '../support/backends';
import { serviceBinary } from '../../scripts/artifacts';
import { countProblems, expectedCounts, scrapeAll } from './expected-counts';
import { spansPerRequest, traceProblems } from './trace-shape';
import { zipkinCollector } from '../support/zipkin-collector';

const { config } = loadConfig();
const WHOLE = { queueLeg: true };

await describeWithBackends('one trace from A through RabbitMQ to F writing to MongoDB (eight processes)', { mongo: 'use', rabbit: 'use' }, ({ mongo, rabbit }, { test, beforeAll, afterAll }) => {
  const collector = zipkinCollector();
  const unexpected: string[] = [];
  let platform: ProcessPlatform;

  beforeAll(async () => {
    platform = new ProcessPlatform(config, {
      command: [serviceBinary()],
      env: {
        ZIPKIN_URL: collector.url,
        TRACE_SAMPLE_RATIO: '1',
        MONGO_CONN: mongo!.url,
        RABBITMQ_CONN: rabbit!.url,
        LOG_LEVEL: 'warn',
        DRAIN_DELAY_MS: '0',
      },
      onUnexpectedExit: (id, how) => unexpected.push(`${id}: ${how}`),
    });
    await platform.start(30_000);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    collector.stop();
  });

  const askA = async () => {
    const response = await fetch(`${platform.url('a')}/api/greeting`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    return response.headers.get('x-b3-traceid')!;
  };

  test("one request to A yields one trace over all eight roles, F's CONSUMER span under D's PRODUCER span", async () => {
    const traceId = await askA();
    const want = spansPerRequest(config, WHOLE);
    await collector.waitFor(() => collector.trace(traceId).length >= want, 10_000);
    const spans = collector.trace(traceId);
    expect(traceProblems(config, spans, WHOLE)).toEqual([]);
    expect(spans).toHaveLength(want);
    const producer = spans.find((s) => s.kind === 'PRODUCER')!;
    expect(producer.tags?.['messaging.system']).toBe('rabbitmq');
    const write = spans.find((s) => s.localEndpoint.serviceName === 'service-f' && s.kind === 'CLIENT')!;
    expect(write.tags?.['db.system.name']).toBe('mongodb');
  }, 20_000);

  test('after N requests every role counts them, acks at F included', async () => {
    const n = 8;
    const before = await scrapeAll(config, (id) => platform.url(id));
    await Promise.all(Array.from({ length: n }, askA));
    const expected = expectedCounts(config, WHOLE);
    // F acknowledges after A has answered: the message leg is asynchronous.
    let problems = countProblems(expected, before, await scrapeAll(config, (id) => platform.url(id)), n);
    for (const deadline = Date.now() + 10_000; problems.length > 0 && Date.now() < deadline; ) {
      await Bun.sleep(100);
      problems = countProblems(expected, before, await scrapeAll(config, (id) => platform.url(id)), n);
    }
    expect(problems).toEqual([]);
  }, 20_000);

  test('no role died on its own', () => {
    expect(unexpected).toEqual([]);
  });
});
