/**
 * The eight roles as separate processes of the compiled binary, as the cluster runs them, each exporting to a real Jaeger
 * all-in-one (test/support/jaeger.ts) whose query API the checks read. Every process has its own in-memory data plane here,
 * so D's messages cannot reach F across processes: this file checks the seven HTTP roles (D's PRODUCER span included),
 * sampling decisions and the flush at SIGTERM. trace-in-jaeger.test.ts runs the same eight processes on RabbitMQ and MongoDB
 * for the message leg to F.
 */
import { expect } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { jaegerBinary, startJaeger, type Jaeger } from '../support/jaeger';
import { serviceBinary } from '../../scripts/artifacts';
import { countProblems, expectedCounts, scrapeAll } from './expected-counts';
import { spansPerRequest, traceProblems } from './trace-shape';
import { describeRequiring } from '../support/requirements';
import { missingTool } from '../support/tools';

const { config } = loadConfig();
const HTTP_ONLY = { queueLeg: false };
const SERVICES = Object.keys(config.services).map((id) => `service-${id}`);
const unexpected: string[] = [];
let jaeger: Jaeger;
let platform: ProcessPlatform;
const traceIds: string[] = [];

describeRequiring('eight processes exporting to Jaeger', missingTool(jaegerBinary), ({ afterAll, beforeAll, describe, test }) => {
  beforeAll(async () => {
    jaeger = await startJaeger();
    platform = new ProcessPlatform(config, {
      command: [serviceBinary()],
      env: { ...jaeger.exporterEnv('zipkin'), TRACE_SAMPLE_RATIO: '1', LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' },
      onUnexpectedExit: (id, how) => unexpected.push(`${id}: ${how}`),
    });
    await platform.start();
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await jaeger?.stop();
  });

  const askA = async (headers: Record<string, string> = {}) => {
    const response = await fetch(`${platform.url('a')}/api/greeting`, { headers });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const traceId = response.headers.get('x-b3-traceid')!;
    traceIds.push(traceId);
    return traceId;
  };

  /** Every trace id Jaeger holds, over all services. */
  const allTraceIds = async () => new Set((await Promise.all(SERVICES.map((s) => jaeger.findTraces(s, 1_000)))).flat().map((t) => t.traceID));

  describe('traces and metrics of eight processes', () => {
    test('one request to A yields one trace whose spans cover every HTTP role, with correct parent links', async () => {
      const traceId = await askA();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const want = spansPerRequest(config, HTTP_ONLY);
      const spans = await jaeger.waitForTrace(traceId, (s) => s.length >= want);
      expect(traceProblems(config, spans, HTTP_ONLY)).toEqual([]);
      expect(spans).toHaveLength(want);
    });

    test('a request arriving with a sampled B3 context continues that trace', async () => {
      const traceId = '463ac35c9f6413ad48485a3953bb6124';
      expect(await askA({ 'x-b3-traceid': traceId, 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' })).toBe(traceId);
      const spans = await jaeger.waitForTrace(traceId, (s) => s.length >= spansPerRequest(config, HTTP_ONLY));
      const root = spans.find((s) => s.localEndpoint.serviceName === 'service-a' && s.kind === 'SERVER');
      expect(root?.parentId).toBe('a2fb4a1d1a96d312');
    });

    test('a request marked not sampled leaves no spans anywhere, and the decision travels down the chain', async () => {
      const traceId = '5b8aa5a2d2c872e8321cf37308d69df2';
      const known = await allTraceIds();
      const response = await fetch(`${platform.url('a')}/api/greeting`, {
        headers: { 'x-b3-traceid': traceId, 'x-b3-spanid': '5fa1a8d0e6e3cbb1', 'x-b3-sampled': '0' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-b3-traceid')).toBeNull();
      // Give a whole batch interval for any wrongly recorded span to arrive. No new trace at all may appear: a role that lost
      // the decision would have started a trace of its own.
      await Bun.sleep(1300);
      expect(await jaeger.trace(traceId)).toBeUndefined();
      expect([...(await allTraceIds())].filter((id) => !known.has(id))).toEqual([]);
    });

    test('after N requests each role counts them: requests, upstream calls, writes, publishes', async () => {
      const n = 9;
      const before = await scrapeAll(config, (id) => platform.url(id));
      await Promise.all(Array.from({ length: n }, () => askA()));
      const after = await scrapeAll(config, (id) => platform.url(id));
      expect(countProblems(expectedCounts(config, HTTP_ONLY), before, after, n)).toEqual([]);
    });

    test('SIGTERM flushes: every trace is whole once the processes have exited, spans of the last requests included', async () => {
      await askA();
      const exits = await platform.stop();
      expect([...exits.values()].every((how) => how === 0)).toBe(true);
      const want = spansPerRequest(config, HTTP_ONLY);
      // The senders are gone, so whatever Jaeger holds now was sent before they exited; the short wait covers only Jaeger's
      // own path from its receiver to its store.
      const incomplete: string[] = [];
      for (const id of traceIds) if ((await jaeger.waitForTrace(id, (s) => s.length === want, 2_000)).length !== want) incomplete.push(id);
      expect(incomplete).toEqual([]);
    }, 30_000);

    test('no role died on its own', () => {
      expect(unexpected).toEqual([]);
    });
  });
});
