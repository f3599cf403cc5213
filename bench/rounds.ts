/**
 * Figures over rounds: each figure's median and range per scenario, and ratios between scenarios computed from the medians.
 * On a machine shared with other work, absolute numbers move with the neighbours' load; rounds that alternate between
 * scenarios see the same neighbours, so their ratios hold where the absolute numbers do not.
 */
import type { Scenario } from './options';
import type { RoundResult } from './scenario';

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Rounds that had the figure. */
  n: number;
}

export function spread(values: (number | undefined)[]): Spread | undefined {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const mid = Math.floor(known.length / 2);
  const median = known.length % 2 === 1 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
  return { median: Math.round(median * 1000) / 1000, min: known[0]!, max: known[known.length - 1]!, n: known.length };
}

export interface Figure {
  label: string;
  unit: string;
  /** Decimals shown. */
  digits: number;
  of(round: RoundResult): number | undefined;
}

export const FIGURES = {
  chainRps: { label: 'chain throughput', unit: 'req/s', digits: 0, of: (r) => r.chain.requestsPerSecond },
  chainP50Ms: { label: 'chain p50', unit: 'ms', digits: 2, of: (r) => r.chain.latency.p50Ms },
  chainP99Ms: { label: 'chain p99', unit: 'ms', digits: 2, of: (r) => r.chain.latency.p99Ms },
  cpuPerRequestUs: { label: 'CPU per chain request (its processes)', unit: 'µs', digits: 0, of: (r) => r.cpuPerRequestUs },
  loadGeneratorCpuPercent: { label: 'load generator CPU, share of one core', unit: '%', digits: 0, of: (r) => r.loadGeneratorCpuPercent },
  loadGeneratorCpuPerRequestUs: { label: 'load generator CPU per request, checking included', unit: 'µs', digits: 1, of: (r) => r.chain.cpuPerRequestUs },
  checkUsPerAnswer: { label: 'correctness check per answer (wall time, generator thread)', unit: 'µs', digits: 1, of: (r) => r.chain.checkUsPerAnswer },
  ceilingRps: { label: "ceiling: the edge's /api/health", unit: 'req/s', digits: 0, of: (r) => r.ceiling?.requestsPerSecond },
  ceilingShare: { label: 'chain req/s x hops / ceiling req/s', unit: '', digits: 3, of: (r) => r.ratio },
} satisfies Record<string, Figure>;

export type FigureKey = keyof typeof FIGURES;

export function spreadsOf(rounds: RoundResult[]): Partial<Record<FigureKey, Spread>> {
  const out: Partial<Record<FigureKey, Spread>> = {};
  for (const [key, figure] of Object.entries(FIGURES) as [FigureKey, Figure][]) {
    const s = spread(rounds.map((r) => figure.of(r)));
    if (s) out[key] = s;
  }
  return out;
}

export interface Ratio {
  /** What the two scenarios differ in: `tracing on/off`, `grpc/http`, or the two labels. */
  name: string;
  numerator: string;
  denominator: string;
  /** Ratio of the medians per figure. */
  figures: Partial<Record<FigureKey, number>>;
}

/** The one dimension two platform scenarios differ in, as `on/off`-style text; undefined when they differ in more or none. */
function oneDifference(a: Scenario, b: Scenario): string | undefined {
  if (a.kind !== 'platform' || b.kind !== 'platform') return undefined;
  const dims = (['artifact', 'backends', 'tracing', 'transport'] as const).filter((d) => a[d] !== b[d]);
  if (dims.length !== 1) return undefined;
  const d = dims[0]!;
  return d === 'tracing' ? `tracing ${a.tracing}/${b.tracing}` : `${a[d]}/${b[d]}`;
}

const RATIO_FIGURES: FigureKey[] = ['chainRps', 'chainP99Ms', 'cpuPerRequestUs', 'ceilingRps'];

/**
 * Every scenario against the first one (the baseline of the command line), and each pair of platform scenarios that differ
 * in one dimension only (tracing on/off, grpc/http, ...), numerator the later one.
 */
export function ratiosOf(results: { scenario: Scenario; label: string; summary: Partial<Record<FigureKey, Spread>> }[]): Ratio[] {
  const ratios: Ratio[] = [];
  const seen = new Set<string>();
  const add = (num: (typeof results)[number], den: (typeof results)[number], name: string) => {
    const key = `${num.label}|${den.label}`;
    if (seen.has(key)) return;
    seen.add(key);
    const figures: Ratio['figures'] = {};
    for (const f of RATIO_FIGURES) {
      const n = num.summary[f]?.median;
      const d = den.summary[f]?.median;
      if (n !== undefined && d !== undefined && d !== 0) figures[f] = Math.round((n / d) * 1000) / 1000;
    }
    ratios.push({ name, numerator: num.label, denominator: den.label, figures });
  };
  for (let j = 0; j < results.length; j++) {
    for (let i = 0; i < j; i++) {
      const diff = oneDifference(results[j]!.scenario, results[i]!.scenario);
      if (diff) add(results[j]!, results[i]!, diff);
      else if (i === 0) add(results[j]!, results[0]!, `${results[j]!.label} / ${results[0]!.label}`);
    }
  }
  return ratios;
}
