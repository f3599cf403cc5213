/**
 * The Grafana dashboard under deploy/grafana/ queries only what the service exports: every series name in every query is
 * in a running role's /api/metrics, and every label a query filters or groups by is a label of that series.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EXEMPLAR_LABEL } from '../../src/telemetry/metrics';
import { readEnv } from '../../src/config/env';
import { loadConfig } from '../../src/config/settings';
import { startInProcess, type InProcessPlatform } from '../../src/platform/in-process';
import { roleUnderTest } from '../support/role-under-test';
import { panelQueries, panels, variableQueries } from './dashboard-queries';
import { exportedNames } from './prom-text';
import { labelValuesParts, promqlParts, type PromqlParts } from './promql-names';

const queries: { where: string; parts: PromqlParts }[] = [
  ...panelQueries.map((q) => ({ where: `panel "${q.panel}": ${q.expr}`, parts: promqlParts(q.expr) })),
  ...variableQueries.map((v) => {
    const parts = labelValuesParts(v.text);
    if (!parts) throw new Error(`variable ${v.name}: not a label_values() query: ${v.text}`);
    return { where: `variable ${v.name}: ${v.text}`, parts };
  }),
];

let platform: InProcessPlatform;
let exported = new Set<string>();

beforeAll(async () => {
  const { config } = loadConfig();
  platform = await startInProcess(config, { env: readEnv({ LOG_LEVEL: 'error', DRAIN_DELAY_MS: '0' }), ephemeralPorts: true });
  // One whole request first, so the scrape is what Prometheus sees from a platform at work.
  await (await fetch(`${platform.url('a')}/api/greeting`)).arrayBuffer();
  for (const id of platform.roles.keys()) {
    for (const name of exportedNames(await (await fetch(`${platform.url(id)}/api/metrics`)).text())) exported.add(name);
  }
});

afterAll(async () => {
  await platform?.stop();
});

const { registry } = roleUnderTest('a').metrics;

/** Label names a series can carry: the family's own, the registry's default labels, and `le` on histogram buckets. */
function labelsOf(series: string): Set<string> {
  const family = registry.getSingleMetric(series) ?? registry.getSingleMetric(series.replace(/_(bucket|sum|count)$/, ''));
  const own = (family as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
  return new Set([...own, 'app', 'version', ...(series.endsWith('_bucket') ? ['le'] : [])]);
}

describe('Grafana dashboard', () => {
  test('has the panels the issue asks for: request rate, error rate, latency per role, upstream latency, queue flow', () => {
    const titles = panels.map((p) => p.title);
    for (const want of ['Request rate', 'Error rate', 'Latency p95', 'Upstream latency p95', 'Published', 'Consumed']) expect(titles).toContain(want);
  });

  test('every panel has at least one query, and every query names at least one series', () => {
    expect(panels.filter((p) => !p.targets?.length).map((p) => p.title)).toEqual([]);
    expect(queries.filter((q) => q.parts.metrics.length === 0).map((q) => q.where)).toEqual([]);
  });

  test('every series a query names is exported by the running roles', () => {
    expect(exported.has('http_server_requests_total')).toBe(true);
    const unknown = queries.flatMap((q) => q.parts.metrics.filter((m) => !exported.has(m)).map((m) => `${m} in ${q.where}`));
    expect(unknown).toEqual([]);
  });

  test('every label a query filters or groups by is a label of the series it queries', () => {
    const wrong = queries.flatMap((q) => {
      const allowed = new Set(q.parts.metrics.flatMap((m) => [...labelsOf(m)]));
      return q.parts.labels.filter((l) => !allowed.has(l)).map((l) => `label ${l} in ${q.where}`);
    });
    expect(wrong).toEqual([]);
  });

  test('latency panels show exemplars, and the Grafana data sources link their label to the Jaeger data source', () => {
    const withExemplars = panels.filter((p) => p.targets?.every((t) => (t as { exemplar?: boolean }).exemplar === true)).map((p) => p.title);
    const latency = panels.filter((p) => p.targets?.some((t) => /_duration_seconds_bucket\b/.test(t.expr) && /http_server|upstream/.test(t.expr))).map((p) => p.title);
    expect(latency.length).toBeGreaterThan(0);
    expect(withExemplars.sort()).toEqual(latency.sort());
    const patch = parse(readFileSync(join(import.meta.dir, '../../deploy/istio/addons/grafana-datasources.yaml'), 'utf8'));
    const sources = parse(patch.data['datasources.yaml']).datasources as { type: string; uid?: string; url: string; jsonData?: { exemplarTraceIdDestinations?: { name: string; datasourceUid: string }[] } }[];
    const prometheus = sources.find((s) => s.type === 'prometheus')!;
    const destinations = prometheus.jsonData?.exemplarTraceIdDestinations ?? [];
    expect(destinations.map((d) => d.name)).toEqual([EXEMPLAR_LABEL]);
    const target = sources.find((s) => s.uid === destinations[0]!.datasourceUid);
    // The Istio add-on's Jaeger: Service `tracing` port 80, query service under /jaeger (samples/addons/jaeger.yaml).
    expect({ type: target?.type, url: target?.url }).toEqual({ type: 'jaeger', url: 'http://tracing:80/jaeger' });
  });

  test('the name extractor finds names and labels and would catch a typo', () => {
    const parts = promqlParts('histogram_quantile(0.95, sum by (role, le) (rate(http_server_request_duration_seconds_bucket{app=~"$app", route="/x"}[$__rate_interval])))');
    expect(parts).toEqual({ metrics: ['http_server_request_duration_seconds_bucket'], labels: ['app', 'route', 'role', 'le'] });
    expect(promqlParts('sum(rate(http_server_request_total[5m])) / 2').metrics.filter((m) => !exported.has(m))).toEqual(['http_server_request_total']);
    expect([...labelsOf('http_server_request_duration_seconds_bucket')].sort()).toEqual(['app', 'le', 'method', 'role', 'route', 'status', 'version']);
    expect(labelsOf('process_cpu_seconds_total').has('role')).toBe(false);
  });
});
