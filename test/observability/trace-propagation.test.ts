/**
 * One request is one trace whichever trace context format carries it between the eight roles: every role on W3C Trace
 * Context alone, every role on B3 alone, and mixed (a W3C-only role in the middle of the chain, a W3C-only publisher whose
 * messages carry only `traceparent`, a B3-only leaf, the rest speaking both), over HTTP, and W3C alone over gRPC metadata.
 * Each role is a process of the compiled binary on the real data plane, configured with OTEL_PROPAGATORS as an operator
 * would, exporting over OTLP/HTTP (protobuf) to a real Jaeger, and the trace is read back from Jaeger's query API: a hop
 * that fails to read what its caller wrote starts a second trace, which shows here as a missing role or an orphan.
 */
import { expect } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { serviceBinary } from '../../scripts/artifacts';
import { describeWithBackends } from '../support/backends';
import { jaegerBinary, startJaeger, type Jaeger } from '../support/jaeger';
import { missingTool } from '../support/tools';
import { spansPerRequest, traceProblems } from './trace-shape';

const { config } = loadConfig();
const WHOLE = { queueLeg: true };
const SERVICES = Object.keys(config.services).map((id) => `service-${id}`).sort();
const everyRole = (value: string) => Object.fromEntries(Object.keys(config.services).map((id) => [id, { OTEL_PROPAGATORS: value }]));

interface Scenario {
  name: string;
  transport: 'http' | 'grpc';
  /** OTEL_PROPAGATORS per role; a role not named speaks both (the default). */
  propagators: Record<string, { OTEL_PROPAGATORS: string }>;
}

const SCENARIOS: Scenario[] = [
  { name: 'W3C Trace Context alone, over HTTP', transport: 'http', propagators: everyRole('tracecontext') },
  { name: 'B3 alone, over HTTP', transport: 'http', propagators: everyRole('b3multi') },
  {
    name: 'mixed over HTTP: B and D speak only W3C (so the queue carries only traceparent), G only B3, the rest both',
    transport: 'http',
    propagators: { b: { OTEL_PROPAGATORS: 'tracecontext' }, d: { OTEL_PROPAGATORS: 'tracecontext' }, g: { OTEL_PROPAGATORS: 'b3multi' } },
  },
  { name: 'W3C Trace Context alone, in gRPC metadata', transport: 'grpc', propagators: everyRole('tracecontext') },
];

for (const scenario of SCENARIOS)
await describeWithBackends(`one trace over eight processes with ${scenario.name}, exported over OTLP, read back from Jaeger`, { mongo: 'use', rabbit: 'use', also: [missingTool(jaegerBinary)] }, ({ mongo, rabbit }, { test, beforeAll, afterAll }) => {
  const unexpected: string[] = [];
  let jaeger: Jaeger;
  let platform: ProcessPlatform;

  beforeAll(async () => {
    jaeger = await startJaeger();
    platform = new ProcessPlatform(config, {
      command: [serviceBinary()],
      env: {
        ...jaeger.exporterEnv('otlp'),
        TRACE_SAMPLE_RATIO: '1',
        MONGO_CONN: mongo!.url,
        RABBITMQ_CONN: rabbit!.url,
        LOG_LEVEL: 'warn',
        DRAIN_DELAY_MS: '0',
      },
      roleEnv: scenario.propagators,
      onUnexpectedExit: (id, how) => unexpected.push(`${id}: ${how}`),
      transport: scenario.transport,
    });
    await platform.start(30_000);
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
    await jaeger?.stop();
  });

  test("every role's spans in one trace, F's CONSUMER under D's PRODUCER, one root, no orphans", async () => {
    const response = await fetch(`${platform.url('a')}/api/greeting`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const traceId = response.headers.get('x-b3-traceid')!;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const want = spansPerRequest(config, WHOLE);
    const spans = await jaeger.waitForTrace(traceId, (s) => s.length >= want, 15_000);
    expect(traceProblems(config, spans, WHOLE)).toEqual([]);
    expect(spans).toHaveLength(want);
    expect([...new Set(spans.map((s) => s.localEndpoint.serviceName))].sort()).toEqual(SERVICES);
    const ids = new Set(spans.map((s) => s.id));
    expect(spans.filter((s) => s.parentId && !ids.has(s.parentId)).map((s) => `${s.localEndpoint.serviceName} ${s.name}`)).toEqual([]);
    // No role started a trace of its own: Jaeger holds no other trace of a consumer-side role than this one.
    const others = (await jaeger.findTraces('service-f')).map((t) => t.traceID).filter((id) => id !== traceId);
    expect(others).toEqual([]);
  }, 30_000);

  test('no role died on its own', () => {
    expect(unexpected).toEqual([]);
  });
});
