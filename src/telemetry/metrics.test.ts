import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { parseSamples, total } from '../../test/observability/prom-text';
import { roleUnderTest } from '../../test/support/role-under-test';
import { createMetrics, runtimeInfo } from './metrics';

const scrape = async (metrics: ReturnType<typeof createMetrics>) => parseSamples(await metrics.registry.metrics());

describe('metrics', () => {
  test('the readiness gauge is read at scrape time and follows the lifecycle, draining included', async () => {
    const h = roleUnderTest('h');
    const ready = async () => /greeting_mesh_ready\{role="h",app="service-h",version="v1"\} (\d)/.exec(await (await h.get('/api/metrics')).text())?.[1];
    expect(await ready()).toBe('1');
    h.lifecycle.phase = 'draining';
    expect(await ready()).toBe('0');
  });

  test('store operations count errors by collection next to their durations', async () => {
    const metrics = createMetrics({ role: 'c', app: 'service-c', version: 'v1' });
    metrics.storeOperation('service-c.greetings', 'insert', 'ok', 0.002);
    metrics.storeOperation('service-c.greetings', 'insert', 'error', 0.5);
    const samples = await scrape(metrics);
    const collection = 'service-c.greetings';
    expect(total(samples, 'mongodb_operation_errors_total', { role: 'c', collection, operation: 'insert', app: 'service-c' })).toBe(1);
    expect(total(samples, 'mongodb_operation_duration_seconds_count', { collection, result: 'ok' })).toBe(1);
    expect(total(samples, 'mongodb_operation_duration_seconds_count', { collection, result: 'error' })).toBe(1);
  });

  test('queue flow: publishes by result, consumption by disposition', async () => {
    const metrics = createMetrics({ role: 'f', app: 'service-f', version: 'v1' });
    metrics.publish('q', 'confirmed');
    metrics.publish('q', 'refused');
    for (const d of ['acked', 'acked', 'requeued', 'dead_lettered'] as const) metrics.consume('q', d);
    const samples = await scrape(metrics);
    expect(total(samples, 'amqp_messages_published_total', { role: 'f', queue: 'q', result: 'refused' })).toBe(1);
    expect(total(samples, 'amqp_messages_published_total', { queue: 'q' })).toBe(2);
    expect(total(samples, 'amqp_messages_consumed_total', { queue: 'q', disposition: 'acked' })).toBe(2);
    expect(total(samples, 'amqp_messages_consumed_total', { queue: 'q', disposition: 'dead_lettered' })).toBe(1);
  });

  test('latency buckets resolve milliseconds: a 3 ms answer is not lumped with a 40 ms one', async () => {
    const metrics = createMetrics({ role: 'a', app: 'service-a', version: 'v1' });
    metrics.request('GET', '/api/greeting', 200, 0.003);
    metrics.request('GET', '/api/greeting', 200, 0.04);
    const samples = await scrape(metrics);
    const at = (le: string) => total(samples, 'http_server_request_duration_seconds_bucket', { le });
    expect(at('0.0025')).toBe(0);
    expect(at('0.005')).toBe(1);
    expect(at('0.05')).toBe(2);
  });

  test('build info says which runtime really runs, not only the Node version Bun imitates', () => {
    const info = runtimeInfo();
    expect(info.runtime).toBe('bun');
    expect(info.runtimeVersion).toBe(Bun.version);
    expect(info.nodeCompat).toBe(process.version);
  });

  test('under Bun the process series that tell something true, and not the ones Bun cannot answer', async () => {
    const names = new Set((await scrape(createMetrics({ role: 'b', app: 'service-b', version: 'v1' }))).map((s) => s.name));
    for (const name of ['process_cpu_seconds_total', 'process_start_time_seconds', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_version_info'])
      expect(names).toContain(name);
    for (const name of [...names]) expect(name).not.toMatch(/^nodejs_(gc_|heap_space_|active_)/);
  });

  test("the process's default series are set up after the first answer, or by a scrape before it, once", async () => {
    const DEFAULTS = ['process_cpu_seconds_total', 'process_start_time_seconds', 'process_max_fds', 'nodejs_eventloop_lag_seconds', 'nodejs_version_info'];
    const registered = (metrics: ReturnType<typeof createMetrics>) => DEFAULTS.filter((name) => metrics.registry.getSingleMetric(name) !== undefined);
    const answered = createMetrics({ role: 'b', app: 'service-b', version: 'v1' });
    expect(registered(answered)).toEqual([]);
    answered.request('GET', '/api/health', 200, 0.001);
    // Not while the first answer is still being recorded: on a later turn of the event loop.
    expect(registered(answered)).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(registered(answered)).toEqual(DEFAULTS);
    answered.request('GET', '/api/health', 200, 0.001);
    await new Promise((resolve) => setImmediate(resolve));
    const names = (await scrape(answered)).map((s) => s.name);
    for (const name of DEFAULTS) expect(names.filter((n) => n === name)).toHaveLength(1);
    expect(total(await scrape(answered), 'http_server_requests_total')).toBe(2);

    const scraped = createMetrics({ role: 'b', app: 'service-b', version: 'v1' });
    await scrape(scraped);
    expect(registered(scraped)).toEqual(DEFAULTS);
    // The first answer after that scrape registers nothing twice (prom-client would throw on a second registration).
    scraped.request('GET', '/api/health', 200, 0.001);
    await new Promise((resolve) => setImmediate(resolve));
    expect(registered(scraped)).toEqual(DEFAULTS);
  });

  test('process_max_fds is the soft limit of /proc/self/limits from the first scrape and the JSON read on, registered once', async () => {
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
    const maxFds = (samples: { name: string; value: number }[]) => samples.filter((s) => s.name === 'process_max_fds').map((s) => s.value);
    const metrics = createMetrics({ role: 'b', app: 'service-b', version: 'v1' });
    expect(maxFds(await scrape(metrics))).toEqual([limit]);
    expect(maxFds(await scrape(metrics))).toEqual([limit]);
    const json = await createMetrics({ role: 'b', app: 'service-b', version: 'v1' }).registry.getMetricsAsJSON();
    expect(json.filter((m) => m.name === 'process_max_fds').map((m) => m.values.map((v) => v.value))).toEqual([[limit]]);
  });
});
