/**
 * The whole trace of one request as Jaeger stores it: the eight roles as processes of the compiled binary on the real data plane
 * (RabbitMQ and a MongoDB-protocol server from test/support/backends.ts), exporting to a real Jaeger all-in-one
 * (test/support/jaeger.ts), and the trace read back from Jaeger's query API, as the Jaeger UI reads it. D publishes with its
 * PRODUCER span's context in the AMQP headers; F, another process, consumes and writes to MongoDB, and its CONSUMER span must
 * land under D's PRODUCER span in the trace of the request to A. Jaeger rejoins the spans of eight processes by their ids
 * alone, so a broken parent link shows up here as an orphan or a second root.
 *
 * The HTTP chain exports Zipkin v2 JSON, the gRPC chain OTLP/HTTP (protobuf), so each exporter carries a whole trace into
 * the same checks. trace-propagation.test.ts varies the trace context format between the roles instead.
 */
import { expect } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { describeWithBackends } from '../support/backends';
import { jaegerBinary, startJaeger, type Jaeger, type TraceProtocol } from '../support/jaeger';
import { serviceBinary } from '../../scripts/artifacts';
import { countProblems, expectedCounts, scrapeAll } from './expected-counts';
import { spansPerRequest, traceProblems } from './trace-shape';
import { missingTool } from '../support/tools';

const { config } = loadConfig();
const WHOLE = { queueLeg: true };
const PROTOCOL: Record<'http' | 'grpc', TraceProtocol> = { http: 'zipkin', grpc: 'otlp' };
const SERVICES = Object.keys(config.services).map((id) => `service-${id}`).sort();

// Every hop over HTTP, then over gRPC: the trace must join the same way whichever transport carries the context.
for (const transport of ['http', 'grpc'] as const)
await describeWithBackends(`the trace of one request over ${transport}, exported over ${PROTOCOL[transport]}, read back from Jaeger (eight processes, real queue and store)`, { mongo: 'use', rabbit: 'use', also: [missingTool(jaegerBinary)] }, ({ mongo, rabbit }, { test, beforeAll, afterAll }) => {
  const unexpected: string[] = [];
  let jaeger: Jaeger;
  let platform: ProcessPlatform;

  beforeAll(async () => {
    jaeger = await startJaeger();
    platform = new ProcessPlatform(config, {
      command: [serviceBinary()],
      env: {
        ...jaeger.exporterEnv(PROTOCOL[transport]),
        TRACE_SAMPLE_RATIO: '1',
        MONGO_CONN: mongo!.url,
        RABBITMQ_CONN: rabbit!.url,
        LOG_LEVEL: 'warn',
        DRAIN_DELAY_MS: '0',
      },
      onUnexpectedExit: (id, how) => unexpected.push(`${id}: ${how}`),
      transport,
    });
    await platform.start(30_000);
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
    await jaeger?.stop();
  });

  const askA = async () => {
    const response = await fetch(`${platform.url('a')}/api/greeting`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    return response.headers.get('x-b3-traceid')!;
  };

  test("one request to A is one trace in Jaeger: every role, F's CONSUMER span under D's PRODUCER span, no orphans, one root", async () => {
    const traceId = await askA();
    const want = spansPerRequest(config, WHOLE);
    const spans = await jaeger.waitForTrace(traceId, (s) => s.length >= want, 15_000);
    expect(traceProblems(config, spans, WHOLE)).toEqual([]);
    expect(spans).toHaveLength(want);
    expect([...new Set(spans.map((s) => s.localEndpoint.serviceName))].sort()).toEqual(SERVICES);

    const ids = new Set(spans.map((s) => s.id));
    expect(spans.filter((s) => s.parentId && !ids.has(s.parentId)).map((s) => `${s.localEndpoint.serviceName} ${s.name}`)).toEqual([]);
    const roots = spans.filter((s) => !s.parentId);
    expect(roots.map((s) => `${s.localEndpoint.serviceName} ${s.kind}`)).toEqual(['service-a SERVER']);

    const producer = spans.find((s) => s.kind === 'PRODUCER')!;
    expect(producer.localEndpoint.serviceName).toBe('service-d');
    expect(producer.tags?.['messaging.system']).toBe('rabbitmq');
    const consumer = spans.find((s) => s.kind === 'CONSUMER')!;
    expect({ service: consumer.localEndpoint.serviceName, parent: consumer.parentId }).toEqual({ service: 'service-f', parent: producer.id });
    const write = spans.find((s) => s.localEndpoint.serviceName === 'service-f' && s.kind === 'CLIENT')!;
    expect({ system: write.tags?.['db.system.name'], parent: write.parentId }).toEqual({ system: 'mongodb', parent: consumer.id });
  }, 30_000);

  test('Jaeger lists exactly the eight services, and finds the trace by the consumer, as the UI search does', async () => {
    const traceId = await askA();
    await jaeger.waitForTrace(traceId, (s) => s.length >= spansPerRequest(config, WHOLE), 15_000);
    expect((await jaeger.services()).sort()).toEqual(SERVICES);
    expect((await jaeger.findTraces('service-f')).map((t) => t.traceID)).toContain(traceId);
  }, 30_000);

  test('after N requests every role counts them, acks at F included', async () => {
    const n = 8;
    const before = await scrapeAll(config, (id) => platform.url(id));
    await Promise.all(Array.from({ length: n }, askA));
    const expected = expectedCounts(config, { ...WHOLE, transport });
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
