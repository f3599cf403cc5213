/**
 * The metrics route's two formats: OpenMetrics with exemplars when the scraper's Accept prefers it, Prometheus text otherwise,
 * one never disturbing the other; and exemplars only where the request is recorded in a trace, naming that trace.
 */
import { describe, expect, test } from 'bun:test';
import { parseSamples } from '../../test/observability/prom-text';
import { roleUnderTest } from '../../test/support/role-under-test';
import { wantsOpenMetrics } from './exposition';
import { createMetrics } from './metrics';

/** What Prometheus 2.42 sends (scrape.go's default), whatever exemplar storage is set to. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** `name{labels} value # {exemplar labels} value timestamp`, per sample line that has one. */
const exemplarsIn = (text: string) =>
  text
    .split('\n')
    .map((line) => /^(\S+?)(\{.*?\})? \S+ # \{(.*)\} (\S+) (\S+)$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ series: `${m![1]}${m![2] ?? ''}`, labels: m![3]!, value: Number(m![4]) }));

describe('content negotiation', () => {
  test("OpenMetrics for Prometheus' Accept and any that prefers it; text for curl, old scrapers and no Accept", () => {
    expect(wantsOpenMetrics(PROMETHEUS_ACCEPT)).toBe(true);
    expect(wantsOpenMetrics('application/openmetrics-text')).toBe(true);
    expect(wantsOpenMetrics('text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5')).toBe(false);
    expect(wantsOpenMetrics('text/plain;version=0.0.4')).toBe(false);
    expect(wantsOpenMetrics('*/*')).toBe(false);
    expect(wantsOpenMetrics('application/openmetrics-text;q=0')).toBe(false);
    expect(wantsOpenMetrics(undefined)).toBe(false);
  });

  test('the route answers each with its content type, and says the answer varies by Accept', async () => {
    const h = roleUnderTest('h');
    const om = await h.get('/api/metrics', { headers: { accept: PROMETHEUS_ACCEPT } });
    expect(om.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.headers.get('vary')).toBe('accept');
    expect(await om.text()).toEndWith('# EOF\n');
    const text = await h.get('/api/metrics');
    expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await text.text()).not.toContain('# EOF');
  });
});

describe('one registry, two formats', () => {
  test("an OpenMetrics scrape leaves the Prometheus text as it was: counters keep `_total` (prom-client's writer renames them)", async () => {
    const metrics = createMetrics({ role: 'h', app: 'service-h', version: 'v1' });
    metrics.request('GET', '/api/greeting', 200, 0.002);
    const before = (await metrics.exposition('text/plain')).body;
    const om = (await metrics.exposition(PROMETHEUS_ACCEPT)).body;
    expect(om).toContain('# TYPE http_server_requests counter');
    expect(om).toContain('http_server_requests_total{');
    const after = (await metrics.exposition('text/plain')).body;
    expect(after).toContain('# TYPE http_server_requests_total counter');
    const names = (text: string) => [...new Set(parseSamples(text).map((s) => s.name))].sort();
    expect(names(after)).toEqual(names(before));
  });

  test('scrapes of both formats at once each get their own format, whole', async () => {
    const metrics = createMetrics({ role: 'h', app: 'service-h', version: 'v1' });
    metrics.request('GET', '/api/greeting', 200, 0.002, TRACE);
    const scrapes = await Promise.all(Array.from({ length: 20 }, (_, i) => metrics.exposition(i % 2 ? PROMETHEUS_ACCEPT : 'text/plain')));
    for (const [i, { body, contentType }] of scrapes.entries()) {
      const om = i % 2 === 1;
      expect({ i, om: contentType.startsWith('application/openmetrics-text'), eof: body.endsWith('# EOF\n'), exemplars: exemplarsIn(body).length > 0 }).toEqual({ i, om, eof: om, exemplars: om });
      expect(body).toContain(om ? 'http_server_requests_total{' : '# TYPE http_server_requests_total counter');
    }
  });
});

describe('exemplars', () => {
  test("a recorded request's trace id is the exemplar of the bucket its latency fell in; the text format has none", async () => {
    const metrics = createMetrics({ role: 'b', app: 'service-b', version: 'v1' });
    metrics.request('GET', '/api/greeting', 200, 0.003, TRACE);
    metrics.upstream('d', '200', 0.0007, TRACE);
    const { body } = await metrics.exposition(PROMETHEUS_ACCEPT);
    expect(exemplarsIn(body)).toEqual([
      { series: expect.stringMatching(/^http_server_request_duration_seconds_bucket\{le="0.005",.*status="200"/), labels: `trace_id="${TRACE}"`, value: 0.003 },
      { series: expect.stringMatching(/^upstream_request_duration_seconds_bucket\{le="0.001",.*upstream="d"/), labels: `trace_id="${TRACE}"`, value: 0.0007 },
    ]);
    expect(exemplarsIn((await metrics.exposition('text/plain')).body)).toEqual([]);
  });

  test('a request recorded in no trace leaves no exemplar (one would link to a trace no collector kept)', async () => {
    const metrics = createMetrics({ role: 'b', app: 'service-b', version: 'v1' });
    metrics.request('GET', '/api/greeting', 200, 0.003);
    metrics.upstream('d', '200', 0.0007, undefined);
    expect(exemplarsIn((await metrics.exposition(PROMETHEUS_ACCEPT)).body)).toEqual([]);
  });

  test("through a role: the caller's sampled trace becomes the exemplar, a not-sampled one does not (tracing off here)", async () => {
    const h = roleUnderTest('h');
    const scrape = async () => exemplarsIn(await (await h.get('/api/metrics', { headers: { accept: PROMETHEUS_ACCEPT } })).text());
    await h.get('/api/greeting', { headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-00` } });
    expect(await scrape()).toEqual([]);
    await h.get('/api/greeting', { headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` } });
    expect((await scrape()).map((e) => e.labels)).toEqual([`trace_id="${TRACE}"`]);
  });
});
