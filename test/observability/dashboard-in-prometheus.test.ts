/**
 * The Grafana dashboard against a real Prometheus: the eight roles as processes of the compiled binary on the real data plane,
 * scraped by Prometheus through a config derived from the rendered manifests' `prometheus.io/*` annotations
 * (scrape-config.ts), and after a short load every query of deploy/grafana/greeting-mesh-dashboard.json must return a series
 * from Prometheus' query API. The load is what the panels exist to show: greetings, 5xx answers from A's status route, a
 * MongoDB outage (store errors), the queue leg, and span export to a real Jaeger. promtool checks the generated config.
 * Prometheus scrapes OpenMetrics (its default Accept) with exemplar storage on, so the latency panels' exemplars are checked
 * the way Grafana reads them: from `/api/v1/query_exemplars`, each naming a trace that the real Jaeger holds.
 */
import { expect } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { describeWithBackends } from '../support/backends';
import { jaegerBinary, startJaeger, type Jaeger } from '../support/jaeger';
import { checkConfig, prometheusBinary, startPrometheus, type Prometheus } from '../support/prometheus';
import { serviceBinary } from '../../scripts/artifacts';
import { panelQueries, panels, variableQueries } from './dashboard-queries';
import { annotatedTargets, renderedDeployments, scrapeConfig, type AnnotatedTarget } from './scrape-config';
import { missingTool } from '../support/tools';

const { config } = loadConfig();
const APPS = Object.keys(config.services).map((id) => `service-${id}`).sort();
const targets = annotatedTargets(renderedDeployments());

/**
 * A dashboard expression as Grafana sends it with every variable at its default: a multi-value variable with "All" selected
 * becomes its allValue, and the interval variables become the window of the whole run (Grafana's `$__rate_interval` is at
 * least four scrape intervals; the run is longer, and a window covering it makes every rate span the load). An unknown
 * variable fails, so a new one cannot slip through unsubstituted.
 */
function asSent(expr: string, windowSeconds: number): string {
  let out = expr.replace(/\$__(rate_interval|interval|range)\b/g, `${windowSeconds}s`);
  for (const v of variableQueries) out = out.replace(new RegExp(`\\$\\{?${v.name}\\}?(?![A-Za-z0-9_])`, 'g'), v.allValue ?? '.*');
  if (out.includes('$')) throw new Error(`unsubstituted variable in ${out}`);
  return out;
}

await describeWithBackends('the Grafana dashboard, queried from a real Prometheus scraping eight processes', { mongo: 'control', rabbit: 'use', also: [missingTool(jaegerBinary), missingTool(prometheusBinary)] }, ({ mongo, rabbit }, { test, beforeAll, afterAll }) => {
  const unexpected: string[] = [];
  let jaeger: Jaeger;
  let platform: ProcessPlatform;
  let prometheus: Prometheus;
  /** Each pod template's process: every version runs (the platform's `versions`), each on its own port. */
  const portOf = (t: AnnotatedTarget) => Number(new URL(platform.versionUrl(t.role, t.labels.version!)).port);
  let startedAt = 0;

  beforeAll(async () => {
    startedAt = Date.now();
    jaeger = await startJaeger();
    platform = new ProcessPlatform(config, {
      command: [serviceBinary()],
      env: {
        ...jaeger.exporterEnv('zipkin'),
        TRACE_SAMPLE_RATIO: '1',
        MONGO_CONN: mongo!.url,
        RABBITMQ_CONN: rabbit!.url,
        LOG_LEVEL: 'error',
        DRAIN_DELAY_MS: '0',
      },
      versions: true,
      onUnexpectedExit: (id, how) => unexpected.push(`${id}: ${how}`),
    });
    await platform.start(30_000);
    prometheus = await startPrometheus(scrapeConfig(targets, portOf));
    await prometheus.waitForScrapes();
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await platform?.stop();
    await jaeger?.stop();
  });

  const get = async (path: string) => {
    const response = await fetch(`${platform.url('a')}${path}`);
    await response.arrayBuffer();
    return response.status;
  };
  const burst = async () => {
    const statuses = await Promise.all([...Array.from({ length: 6 }, () => get('/api/greeting')), get('/api/status/503'), get('/api/status/500')]);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 503, 500]);
  };

  test('Prometheus scrapes every annotated pod template at its annotated path, one target per version of each role', async () => {
    const versions = (id: string) => [config.services[id]!.version ?? config.defaults.version, ...Object.keys(config.services[id]!.versions ?? {})];
    expect(targets.map((t) => `${t.role}-${t.labels.version}`).sort()).toEqual(Object.keys(config.services).flatMap((id) => versions(id).map((v) => `${id}-${v}`)).sort());
    const active = await prometheus.targets();
    const key = (t: { app?: string; version?: string }) => `${t.app}-${t.version}`;
    expect(active.map((t) => ({ app: t.labels.app, version: t.labels.version, health: t.health, path: new URL(t.scrapeUrl).pathname })).sort((x, y) => key(x).localeCompare(key(y)))).toEqual(
      targets.map((t) => ({ app: t.labels.app, version: t.labels.version, health: 'up' as const, path: t.path })).sort((x, y) => key(x).localeCompare(key(y))),
    );
  });

  test('after a short load (greetings, 5xx, a MongoDB outage) every dashboard query returns a series', async () => {
    await burst();
    await prometheus.waitForScrapes();
    // Stores fail while MongoDB is down, so the error panels have something to show; the roles recover once it is back.
    await mongo!.stop();
    expect(await get('/api/greeting')).not.toBe(200);
    await mongo!.start();
    await Promise.all(Object.keys(config.services).map((id) => platform.waitReady(id, 30_000)));
    await burst();
    // Two scrapes after the load, so a series that first appeared in the last burst has the two samples a rate needs.
    await prometheus.waitForScrapes();
    await prometheus.waitForScrapes();

    const window = Math.ceil((Date.now() - startedAt) / 1000) + 5;
    const empty: string[] = [];
    for (const { panel, expr } of panelQueries) {
      const result = await prometheus.query(asSent(expr, window));
      if (result.length === 0) empty.push(`${panel}: ${asSent(expr, window)}`);
    }
    expect(empty).toEqual([]);

    // The load did register: every role that serves greetings shows a positive request rate.
    const requestRate = panelQueries.find((q) => q.panel === 'Request rate')!;
    const rates = await prometheus.query(asSent(requestRate.expr, window));
    const serving = Object.keys(config.services).filter((id) => !config.services[id]!.consume).sort();
    expect(rates.filter((s) => Number(s.value[1]) > 0).map((s) => s.metric.role).sort()).toEqual(serving);
  }, 120_000);

  test('the latency panels have exemplars in Prometheus, and each names a sampled trace Jaeger holds, spanning the roles', async () => {
    await burst();
    await prometheus.waitForScrapes();
    const end = Date.now() / 1000;
    const latency = panels.filter((p) => p.targets?.some((t) => (t as { exemplar?: boolean }).exemplar));
    expect(latency.map((p) => p.title).sort()).toEqual(['Latency p50 / p99', 'Latency p95', 'Upstream latency p95']);
    const traces = new Map<string, Set<string>>();
    for (const series of ['http_server_request_duration_seconds_bucket{route="/api/greeting"}', 'upstream_request_duration_seconds_bucket']) {
      const found = await prometheus.exemplars(series, startedAt / 1000, end);
      expect({ series, withExemplars: found.length > 0 }).toEqual({ series, withExemplars: true });
      for (const s of found) for (const e of s.exemplars) (traces.get(e.labels.trace_id!) ?? traces.set(e.labels.trace_id!, new Set()).get(e.labels.trace_id!)!).add(s.seriesLabels.role!);
    }
    expect([...traces.keys()].every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
    // Every role that serves greetings put exemplars on its request latency.
    const roles = new Set([...traces.values()].flatMap((r) => [...r]));
    expect([...roles].sort()).toEqual(Object.keys(config.services).filter((id) => !config.services[id]!.consume).sort());
    // An exemplar is a link: the trace it names must be in Jaeger, whole enough to show the spike (A's SERVER span at least).
    const missing: string[] = [];
    for (const id of [...traces.keys()].slice(0, 12)) {
      const spans = await jaeger.waitForTrace(id, (s) => s.some((span) => span.kind === 'SERVER'), 10_000);
      if (spans.length === 0) missing.push(id);
    }
    expect(missing).toEqual([]);
  }, 60_000);

  test("the dashboard's variables list every role, as Grafana's label_values() would", async () => {
    for (const v of variableQueries) {
      const m = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(v.text.trim());
      if (!m) throw new Error(`variable ${v.name}: not a label_values() query: ${v.text}`);
      const values = (await prometheus.query(`group by (${m[2]}) (${m[1]})`)).map((s) => s.metric[m[2]!]);
      expect({ variable: v.name, values: values.sort() }).toEqual({ variable: v.name, values: APPS });
    }
  });

  test('promtool accepts the generated config, and refuses it with a seeded defect', () => {
    const checked = checkConfig(prometheus.configFile);
    expect({ ok: checked.ok, output: checked.output }).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
    const broken = `${prometheus.configFile}.broken.yml`;
    const generated = scrapeConfig(targets, portOf) as { global: Record<string, string> };
    writeFileSync(broken, stringify({ ...generated, global: { ...generated.global, scrape_timeout: '5s' } }));
    const refused = checkConfig(broken);
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain('scrape timeout greater than scrape interval');
  });

  test('no role died on its own', () => {
    expect(unexpected).toEqual([]);
  });
});
