import { describe, expect, test } from 'bun:test';
import { parseSamples, total } from '../../test/observability/prom-text';
import { freePort } from '../platform/processes';
import { EXPORT_WARNING_INTERVAL_MS, reportExports } from './export-report';
import { createLogger } from './log';
import { createMetrics } from './metrics';
import { createTracing } from './tracing';

function fixture() {
  const metrics = createMetrics({ role: 'g', app: 'service-g', version: 'v1' });
  const lines: string[] = [];
  const log = createLogger('g', 'info', (line) => lines.push(line));
  const exported = async (result: string) => total(parseSamples(await metrics.registry.metrics()), 'tracing_spans_exported_total', { result });
  return { metrics, log, lines, exported };
}

describe('span export reporting', () => {
  test('spans a collector refused are counted and logged, at most once a minute with the number lost', async () => {
    const { metrics, log, lines, exported } = fixture();
    let clock = 1_000_000;
    const report = reportExports(metrics, log, () => clock);
    report(10, undefined, 'zipkin');
    report(5, new Error('connect ECONNREFUSED 127.0.0.1:9411'), 'zipkin');
    report(7, new Error('connect ECONNREFUSED 127.0.0.1:9411'), 'zipkin');
    clock += EXPORT_WARNING_INTERVAL_MS;
    report(3, new Error('Got unexpected status code from zipkin: 500'), 'zipkin');
    expect(await exported('ok')).toBe(10);
    expect(await exported('failed')).toBe(15);
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'spans not accepted by the trace collector', lostSpans: 5, exporter: 'zipkin', error: 'connect ECONNREFUSED 127.0.0.1:9411' }),
      expect.objectContaining({ lostSpans: 10, error: 'Got unexpected status code from zipkin: 500' }),
    ]);
  });

  test('a ZIPKIN_URL where nothing listens: requests are not disturbed, the loss is counted', async () => {
    const { metrics, log, exported } = fixture();
    const tracing = createTracing({
      serviceName: 'service-g',
      version: 'v1',
      sampleRatio: 1,
      zipkinUrl: `http://127.0.0.1:${await freePort()}/api/v2/spans`,
      onExport: reportExports(metrics, log),
    })!;
    tracing.startServer(new Headers(), 'GET /api/greeting', {}).span.end();
    await tracing.flush().catch(() => undefined);
    expect(await exported('failed')).toBe(1);
    await tracing.shutdown();
  });

  test('an OTLP endpoint where nothing listens, beside a Zipkin one: each exporter counts its own loss, by name', async () => {
    const { metrics, log } = fixture();
    const tracing = createTracing({
      serviceName: 'service-g',
      version: 'v1',
      sampleRatio: 1,
      zipkinUrl: `http://127.0.0.1:${await freePort()}/api/v2/spans`,
      otlp: { url: `http://127.0.0.1:${await freePort()}/v1/traces`, headers: {}, timeoutMs: 2_000 },
      onExport: reportExports(metrics, log),
    })!;
    tracing.startServer(new Headers(), 'GET /api/greeting', {}).span.end();
    await tracing.flush().catch(() => undefined);
    const samples = parseSamples(await metrics.registry.metrics());
    for (const exporter of ['zipkin', 'otlp']) expect({ exporter, failed: total(samples, 'tracing_spans_exported_total', { exporter, result: 'failed' }) }).toEqual({ exporter, failed: 1 });
    await tracing.shutdown();
  }, 20_000);
});
