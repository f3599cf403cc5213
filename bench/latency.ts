/**
 * Latency summaries from raw per-request samples (milliseconds, sub-millisecond precision). Whole-millisecond histograms (what
 * autocannon keeps) are too coarse for a chain whose median is a few ms, so the load generator keeps every sample and this
 * module reduces them: exact percentiles, and a log-spaced histogram for the chart.
 */

/** Percentiles reported and charted; the tail is what a seven-hop chain makes interesting. */
export const PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.99, 100] as const;

/** Histogram bins per decade of milliseconds: fine enough to show the shape, small enough for a JSON file. */
const BINS_PER_DECADE = 20;

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** [percentile, ms] pairs, for the percentile-distribution chart. */
  percentiles: [number, number][];
  /** [bin lower bound ms, bin upper bound ms, count] for the bins that hold samples. */
  histogram: [number, number, number][];
}

export function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  // Nearest-rank: the smallest sample at or above p percent of all samples.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: Float64Array): LatencySummary {
  const sorted = samples.slice().sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const bins = new Map<number, number>();
  for (const v of sorted) {
    const bin = Math.floor(Math.log10(Math.max(v, 0.001)) * BINS_PER_DECADE);
    bins.set(bin, (bins.get(bin) ?? 0) + 1);
  }
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    count: sorted.length,
    meanMs: sorted.length ? round(sum / sorted.length) : NaN,
    p50Ms: round(percentileOf(sorted, 50)),
    p90Ms: round(percentileOf(sorted, 90)),
    p99Ms: round(percentileOf(sorted, 99)),
    maxMs: round(percentileOf(sorted, 100)),
    percentiles: PERCENTILES.map((p) => [p, round(percentileOf(sorted, p))]),
    histogram: [...bins.entries()]
      .sort(([a], [b]) => a - b)
      .map(([bin, count]) => [round(10 ** (bin / BINS_PER_DECADE)), round(10 ** ((bin + 1) / BINS_PER_DECADE)), count]),
  };
}
