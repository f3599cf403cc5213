import { describe, expect, test } from 'bun:test';
import { bindCounter, bindHistogram } from './bound-series';
import { withExemplars } from './exposition';
import { Counter, Histogram, Registry } from './prom';

const BUCKETS = [0.001, 0.005, 0.01, 0.1, 1];
const LABELS = { role: 'a', route: '/api/greeting' };

/** A registry with one counter and one histogram with exemplars, as metrics.ts makes them. */
function metricSet() {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'service-a' });
  const registers = [registry];
  const counter = new Counter({ name: 'requests_total', help: 'h', labelNames: ['role', 'route'] as const, registers });
  const histogram = withExemplars(registry, () =>
    new Histogram({ name: 'duration_seconds', help: 'h', labelNames: ['role', 'route'] as const, buckets: BUCKETS, registers, enableExemplars: true }),
  );
  return { registry, counter, histogram };
}

/** Both formats, with the exemplars' timestamps (wall clock at the observation) taken out. */
async function scrapes(registry: Registry) {
  const text = await registry.metrics();
  const r = registry as unknown as Registry<'application/openmetrics-text; version=1.0.0; charset=utf-8'>;
  r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const open = (await r.metrics()).replace(/(# \{[^}]*\} \S+) \d+(\.\d+)?$/gm, '$1 T');
  r.setContentType(Registry.PROMETHEUS_CONTENT_TYPE as never);
  return { text, open };
}

// On the bounds, between them, below the first and above the last (+Inf only), zero: where an off-by-one would show.
const VALUES = [0, 0.0005, 0.001, 0.0010001, 0.003, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 1.5, 30, 0.001, 0.1, 1];

describe('bound series', () => {
  test('a scrape shows exactly what prom-client itself records for the same observations, exemplars included', async () => {
    const ours = metricSet();
    const theirs = metricSet();
    const count = bindCounter(ours.counter, { ...LABELS });
    const duration = bindHistogram(ours.histogram, { ...LABELS });
    VALUES.forEach((value, i) => {
      const exemplar = i % 3 === 0 ? { trace_id: `${i}`.padStart(32, '0') } : undefined;
      count.inc();
      duration.observe(value, exemplar);
      theirs.counter.inc({ ...LABELS });
      if (exemplar) theirs.histogram.observe({ labels: { ...LABELS }, value, exemplarLabels: exemplar as never });
      else theirs.histogram.observe({ labels: { ...LABELS }, value });
    });
    const [a, b] = [await scrapes(ours.registry), await scrapes(theirs.registry)];
    expect(a.text).toBe(b.text);
    expect(a.open).toBe(b.open);
    expect(a.text).toContain(`requests_total{role="a",route="/api/greeting",app="service-a"} ${VALUES.length}`);
    expect(a.text).toContain(`duration_seconds_bucket{le="0.001",app="service-a",role="a",route="/api/greeting"} 4`);
    expect(a.open).toContain('# {trace_id="00000000000000000000000000000015"} 1 T');
  });

  test('series of other label sets are kept apart', async () => {
    const { registry, counter, histogram } = metricSet();
    const a = bindHistogram(histogram, { role: 'a', route: '/x' });
    const b = bindHistogram(histogram, { role: 'a', route: '/y' });
    const ca = bindCounter(counter, { role: 'a', route: '/x' });
    for (let i = 0; i < 5; i++) a.observe(0.002), ca.inc();
    b.observe(0.5);
    const { text } = await scrapes(registry);
    expect(text).toContain('duration_seconds_count{app="service-a",role="a",route="/x"} 5');
    expect(text).toContain('duration_seconds_count{app="service-a",role="a",route="/y"} 1');
    expect(text).toContain('requests_total{role="a",route="/x",app="service-a"} 5');
    expect(text).not.toContain('requests_total{role="a",route="/y"');
  });

  test('after a reset the series counts from zero again, into the entry the metric now holds', async () => {
    const { registry, counter, histogram } = metricSet();
    const count = bindCounter(counter, { ...LABELS });
    const duration = bindHistogram(histogram, { ...LABELS });
    for (let i = 0; i < 3; i++) count.inc(), duration.observe(0.02);
    counter.reset();
    histogram.reset();
    count.inc();
    duration.observe(0.02);
    duration.observe(0.02);
    const { text } = await scrapes(registry);
    expect(text).toContain('requests_total{role="a",route="/api/greeting",app="service-a"} 1');
    expect(text).toContain('duration_seconds_count{app="service-a",role="a",route="/api/greeting"} 2');
    expect(text).toContain('duration_seconds_sum{app="service-a",role="a",route="/api/greeting"} 0.04');
  });

  test('what prom-client refuses is still refused: a value that is not a number, a label it does not have, a long exemplar', () => {
    const { counter, histogram } = metricSet();
    const theirs = metricSet().histogram;
    const duration = bindHistogram(histogram, { ...LABELS });
    duration.observe(0.01);
    expect(() => duration.observe(Number.NaN)).toThrow(/not a valid number/);
    expect(() => duration.observe(Number.POSITIVE_INFINITY)).toThrow(/not a valid number/);
    expect(() => bindHistogram(histogram, { ...LABELS, extra: 'x' } as typeof LABELS)).toThrow(/extra/);
    // An exemplar's labels past 128 characters, at a bucket's first exemplar (prom-client's) and at a later one (in place).
    const long = { trace_id: 'f'.repeat(121) };
    expect(() => theirs.observe({ labels: { ...LABELS }, value: 0.5, exemplarLabels: long as never })).toThrow(RangeError);
    duration.observe(0.5, { trace_id: 'f'.repeat(32) });
    expect(() => duration.observe(0.5, long)).toThrow(new RangeError('Label set size must be smaller than 128 UTF-8 chars'));
    expect(() => duration.observe(0.5, { trace_id: 'f'.repeat(120) })).not.toThrow();
    // prom-client checks a counter's labels at its first increment, not when the child is made.
    expect(() => bindCounter(counter, { ...LABELS, extra: 'x' } as typeof LABELS).inc()).toThrow(/extra/);
  });
});
