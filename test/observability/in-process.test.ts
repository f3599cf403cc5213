/**
 * The default local run (all roles in one process, real HTTP between them, the embedded queue carrying D's greetings to F)
 * exporting to a real Jaeger all-in-one (test/support/jaeger.ts), read back through its query API. One process, but one TracerProvider per role: every span must still
 * name its own role, and the message leg must join the request's trace through the message headers.
 */
import { expect } from 'bun:test';
import { readEnv } from '../../src/config/env';
import { loadConfig } from '../../src/config/settings';
import { startInProcess, type InProcessPlatform } from '../../src/platform/in-process';
import { countProblems, expectedCounts, scrapeAll } from './expected-counts';
import { jaegerBinary, startJaeger, type Jaeger } from '../support/jaeger';
import { spansPerRequest, traceProblems } from './trace-shape';
import { describeRequiring } from '../support/requirements';
import { missingTool } from '../support/tools';

const { config } = loadConfig();
const WHOLE = { queueLeg: true };
let jaeger: Jaeger;
let platform: InProcessPlatform | undefined;

describeRequiring('the local run exporting to Jaeger', missingTool(jaegerBinary), ({ afterAll, beforeAll, describe, test }) => {
  beforeAll(async () => {
    jaeger = await startJaeger();
    const env = readEnv({ ...jaeger.exporterEnv('zipkin'), TRACE_SAMPLE_RATIO: '1', LOG_LEVEL: 'error', DRAIN_DELAY_MS: '0' });
    platform = await startInProcess(config, { env, ephemeralPorts: true });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await jaeger?.stop();
  });

  const askA = async () => {
    const response = await fetch(`${platform!.url('a')}/api/greeting`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    return response.headers.get('x-b3-traceid')!;
  };

  describe('traces and metrics of the local run (one process)', () => {
    test('one request to A yields one trace over all eight roles, F consuming under D producing', async () => {
      const traceId = await askA();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const want = spansPerRequest(config, WHOLE);
      // Batches leave about once a second.
      const spans = await jaeger.waitForTrace(traceId, (s) => s.length >= want);
      expect(traceProblems(config, spans, WHOLE)).toEqual([]);
      expect(spans).toHaveLength(want);
    });

    test('after N requests every role counts them: requests, upstream calls, writes, publishes, acks', async () => {
      const n = 7;
      const before = await scrapeAll(config, platform!.url);
      await Promise.all(Array.from({ length: n }, askA));
      const expected = expectedCounts(config, WHOLE);
      // F acknowledges after A has answered (the message leg is asynchronous): poll a little.
      let problems = countProblems(expected, before, await scrapeAll(config, platform!.url), n);
      for (const deadline = Date.now() + 3000; problems.length > 0 && Date.now() < deadline; ) {
        await Bun.sleep(50);
        problems = countProblems(expected, before, await scrapeAll(config, platform!.url), n);
      }
      expect(problems).toEqual([]);
    });

    test('stopping the platform sends the spans still waiting in the batch', async () => {
      const traceId = await askA();
      await platform!.stop();
      platform = undefined;
      // The roles are stopped, so nothing sent later can count: what Jaeger holds was flushed by stop(). The short wait covers
      // only Jaeger's own path from its receiver to its store.
      const want = spansPerRequest(config, WHOLE);
      expect(await jaeger.waitForTrace(traceId, (s) => s.length === want, 2_000)).toHaveLength(want);
    });
  });
});
