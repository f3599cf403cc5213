import { describe, expect, test } from 'bun:test';
import { summarize } from './latency';
import { sumMetric } from './data-plane';

describe('latency summary', () => {
  test('nearest-rank percentiles of 1..100 ms, and a histogram that holds every sample', () => {
    const samples = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
    const s = summarize(samples);
    expect(s).toMatchObject({ count: 100, meanMs: 50.5, p50Ms: 50, p90Ms: 90, p99Ms: 99, maxMs: 100 });
    expect(s.percentiles[0]).toEqual([0, 1]);
    expect(s.histogram.reduce((n, [, , c]) => n + c, 0)).toBe(100);
    for (const [lo, hi] of s.histogram) expect(lo).toBeLessThan(hi);
  });
});

describe('Prometheus text sums', () => {
  const text = [
    '# HELP amqp_messages_published_total Greetings published.',
    'amqp_messages_published_total{role="d",queue="q",result="confirmed",app="service-d"} 41',
    'amqp_messages_published_total{role="d",queue="q",result="refused",app="service-d"} 2',
    'amqp_messages_published_total_other{result="confirmed"} 1000',
  ].join('\n');

  test('sums only the series of that name whose labels match', () => {
    expect(sumMetric(text, 'amqp_messages_published_total', { result: 'confirmed' })).toBe(41);
    expect(sumMetric(text, 'amqp_messages_published_total')).toBe(43);
    expect(sumMetric(text, 'amqp_messages_consumed_total')).toBe(0);
  });
});
