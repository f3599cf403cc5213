/**
 * Two SVG charts of the latency distributions, with no dependencies so the HTML opens anywhere offline:
 * latency by percentile (x stretched towards the tail, as HdrHistogram plots do) and the share of requests per latency bin.
 * Both axes that span orders of magnitude are logarithmic.
 */
import type { LatencySummary } from './latency';

export interface Series {
  name: string;
  latency: LatencySummary;
  dashed?: boolean;
  /** Series of one scenario share a colour (chain solid, ceiling dashed). */
  colorIndex?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const W = 760;
const H = 360;
const M = { left: 64, right: 16, top: 16, bottom: 48 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const colorOf = (s: Series, i: number) => COLORS[(s.colorIndex ?? i) % COLORS.length];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(2));

/** Powers of ten (and 2x, 5x) between lo and hi, for log-axis ticks. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

function frame(xLabel: string, yLabel: string, xTicks: [number, string][], yTicks: [number, string][], body: string, legend: string): string {
  const grid = [
    ...xTicks.map(([x, t]) => `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + PH}" stroke="#eee"/><text x="${x}" y="${M.top + PH + 16}" text-anchor="middle">${esc(t)}</text>`),
    ...yTicks.map(([y, t]) => `<line x1="${M.left}" y1="${y}" x2="${M.left + PW}" y2="${y}" stroke="#eee"/><text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${esc(t)}</text>`),
  ].join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#999"/>${grid}
<text x="${M.left + PW / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(14 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
${body}${legend}</svg>`;
}

function legendOf(series: Series[]): string {
  return series
    .map((s, i) => {
      const y = M.top + 12 + i * 15;
      const color = colorOf(s, i);
      return `<line x1="${M.left + 10}" y1="${y - 4}" x2="${M.left + 34}" y2="${y - 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/><text x="${M.left + 40}" y="${y}">${esc(s.name)}</text>`;
    })
    .join('');
}

function yRange(series: Series[]): [number, number] {
  const all = series.flatMap((s) => s.latency.percentiles.map(([, ms]) => ms)).filter((v) => v > 0);
  return [Math.max(0.01, Math.min(...all) * 0.8), Math.max(...all) * 1.25];
}

/** Latency (log y) against percentile, x = -log10(1 - p): 0, 90, 99, 99.9, 99.99 evenly spaced; max at the right edge. */
export function percentileChart(series: Series[]): string {
  const xMax = 5;
  const xOf = (p: number) => M.left + (Math.min(xMax, p >= 100 ? xMax : -Math.log10(1 - p / 100)) / xMax) * PW;
  const [lo, hi] = yRange(series);
  const yOf = (ms: number) => M.top + PH - ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * PH;
  const xTicks: [number, string][] = [[0, '0%'], [90, '90%'], [99, '99%'], [99.9, '99.9%'], [99.99, '99.99%'], [100, 'max']].map(([p, t]) => [xOf(p as number), t as string]);
  const yTicks: [number, string][] = logTicks(lo, hi).map((v) => [yOf(v), fmt(v)]);
  const lines = series
    .map((s, i) => {
      const points = s.latency.percentiles.map(([p, ms]) => `${xOf(p).toFixed(1)},${yOf(ms).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${colorOf(s, i)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${points}"/>`;
    })
    .join('');
  return frame('percentile of requests', 'latency (ms, log scale)', xTicks, yTicks, lines, legendOf(series));
}

/** Share of requests (linear y) per latency bin (log x). */
export function histogramChart(series: Series[]): string {
  const bins = series.flatMap((s) => s.latency.histogram);
  const lo = Math.max(0.01, Math.min(...bins.map(([l]) => l)));
  const hi = Math.max(...bins.map(([, h]) => h));
  const share = (s: Series, count: number) => (count / Math.max(1, s.latency.count)) * 100;
  const maxShare = Math.max(...series.flatMap((s) => s.latency.histogram.map(([, , c]) => share(s, c))), 1);
  const xOf = (ms: number) => M.left + ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * PW;
  const yOf = (pct: number) => M.top + PH - (pct / (maxShare * 1.1)) * PH;
  const xTicks: [number, string][] = logTicks(lo, hi).map((v) => [xOf(v), fmt(v)]);
  const step = maxShare > 20 ? 10 : maxShare > 8 ? 5 : maxShare > 4 ? 2 : 1;
  const yTicks: [number, string][] = [];
  for (let v = 0; v <= maxShare * 1.1; v += step) yTicks.push([yOf(v), `${v}%`]);
  const lines = series
    .map((s, i) => {
      const points = s.latency.histogram.map(([l, h, c]) => `${xOf(Math.sqrt(l * h)).toFixed(1)},${yOf(share(s, c)).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${colorOf(s, i)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${points}"/>`;
    })
    .join('');
  return frame('latency (ms, log scale)', 'share of requests per bin', xTicks, yTicks, lines, legendOf(series));
}
