import { describe, expect, test } from 'bun:test';
import type { Scenario } from './options';
import { ratiosOf, spread, type FigureKey, type Spread } from './rounds';

describe('spread over rounds', () => {
  test('median, min and max; an even count takes the mean of the middle two; unknown values are left out', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, undefined, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spread([undefined, NaN])).toBeUndefined();
  });
});

describe('ratios between scenarios', () => {
  const platform = (tracing: 'off' | 'on', transport: 'http' | 'grpc' = 'http'): Scenario => ({ kind: 'platform', artifact: 'binary', backends: 'memory', tracing, transport });
  const result = (scenario: Scenario, label: string, rps: number, cpu: number) => ({
    scenario,
    label,
    summary: { chainRps: { median: rps, min: rps, max: rps, n: 1 }, cpuPerRequestUs: { median: cpu, min: cpu, max: cpu, n: 1 } } as Partial<Record<FigureKey, Spread>>,
  });

  test('pairs that differ in one dimension are named by it; everything else is compared with the first scenario', () => {
    const ratios = ratiosOf([
      result(platform('off'), 'off', 4000, 400),
      result(platform('on'), 'on', 2000, 800),
      result(platform('on', 'grpc'), 'on-grpc', 1000, 1000),
      result({ kind: 'target', name: 'main', url: 'http://x', processes: [] }, 'target:main', 5000, 300),
    ]);
    expect(ratios.map((r) => [r.name, r.numerator, r.denominator])).toEqual([
      ['tracing on/off', 'on', 'off'],
      ['on-grpc / off', 'on-grpc', 'off'],
      ['grpc/http', 'on-grpc', 'on'],
      ['target:main / off', 'target:main', 'off'],
    ]);
    expect(ratios[0]!.figures).toEqual({ chainRps: 0.5, cpuPerRequestUs: 2 });
    expect(ratios[3]!.figures).toEqual({ chainRps: 1.25, cpuPerRequestUs: 0.75 });
  });
});
