/**
 * The HTML page of a bench run, self-contained (inline SVG, no scripts), so it opens anywhere offline: targets first (each
 * figure against its target, met or missed), then the scenarios side by side with their ratios, correctness and stored vs
 * answered, start-up against bare Bun and the per-import costs, the latency charts, and the text summary.
 */
import { histogramChart, percentileChart, type Series } from './chart';
import type { BenchReport } from './report';
import { exactShare, idleTogether, spreadText, threadShares } from './format';
import { FIGURES, type FigureKey } from './rounds';
import { TARGETS } from './targets';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const verdict = (met: boolean) => (met ? '<span class="met">met</span>' : '<span class="missed">missed</span>');

/** The figures a general target exists for, as shown in the side-by-side table. */
const FIGURE_TARGETS: Partial<Record<FigureKey, string>> = {
  chainRps: `>= ${TARGETS.chainRps} (c=${TARGETS.chainConcurrency})`,
  chainP99Ms: `< ${TARGETS.chainP99Ms}`,
  cpuPerRequestUs: `<= ${TARGETS.chainCpuPerRequestUs} in-memory; <= ${TARGETS.dataPlaneCpuPerRequestUs} real backends`,
};


function targetsTable(report: BenchReport): string {
  return table(
    ['target', 'scenario', 'measured (median, range over rounds)', '', 'note'],
    report.targets.map((t) => [esc(t.target), esc(t.scenario), esc(t.measured), verdict(t.met), esc(t.note ?? '')]),
  );
}

function figuresTable(report: BenchReport): string {
  const scenarios = report.scenarios;
  const rows = (Object.entries(FIGURES) as [FigureKey, (typeof FIGURES)[FigureKey]][])
    .filter(([key]) => scenarios.some((s) => s.summary[key]))
    .map(([key, f]) => [`${esc(f.label)}${f.unit ? ` (${esc(f.unit)})` : ''}`, ...scenarios.map((s) => esc(spreadText(s.summary[key], FIGURES[key].digits))), esc(FIGURE_TARGETS[key] ?? '')]);
  const correctness = ['answers: exact / wrong / unanswered', ...scenarios.map((s) => `${s.correctness.exact} / ${s.correctness.wrong} / ${s.unanswered}`), 'zero errors'];
  return table(['figure', ...scenarios.map((s) => esc(s.label)), 'target'], [...rows, correctness]);
}

function ratiosTable(report: BenchReport): string {
  if (report.ratios.length === 0) return '<p>One scenario: no ratios.</p>';
  const keys = [...new Set(report.ratios.flatMap((r) => Object.keys(r.figures)))] as FigureKey[];
  return table(
    ['ratio', 'numerator / denominator', ...keys.map((k) => FIGURES[k].label)],
    report.ratios.map((r) => [esc(r.name), `${esc(r.numerator)} / ${esc(r.denominator)}`, ...keys.map((k) => (r.figures[k] === undefined ? '-' : r.figures[k]!.toFixed(2)))]),
  );
}

function correctnessTable(report: BenchReport): string {
  return table(
    ['scenario', 'answers', 'exact', 'share exact', 'wrong', 'unanswered', 'why wrong', 'stored / answered per collection'],
    report.scenarios.map((s) => [
      esc(s.label),
      String(s.correctness.checked),
      String(s.correctness.exact),
      exactShare(s.correctness.exact, s.correctness.checked + s.unanswered),
      String(s.correctness.wrong),
      String(s.unanswered),
      esc(Object.entries(s.correctness.reasons).map(([why, n]) => `${n}x ${why}`).join('; ')),
      esc((s.stored ?? []).map((c) => `${c.collection} ${c.stored}/${c.answered}`).join(', ') || 'not checked (no data plane of the bench)'),
    ]),
  );
}

function processesTables(report: BenchReport): string {
  return report.scenarios
    .filter((s) => Object.keys(s.processSummary).length > 0)
    .map((s) => {
      const chart = s.rounds.find((r) => r.round === s.chartRound);
      const rows = Object.entries(s.processSummary).map(([name, p]) => [
        esc(name),
        esc(spreadText(p.cpuPerRequestUs)),
        esc(spreadText(p.chainCpuPercent)),
        s.setup.idle[name]?.idleRssMb.toFixed(1) ?? '-',
        s.setup.idle[name]?.idlePssMb.toFixed(1) ?? '-',
        p.peakRssMb.toFixed(1),
        esc(threadShares(chart?.processes[name]?.chainCpuByThread ?? {})),
      ]);
      const together = idleTogether(s);
      const sum = together
        ? `<p>Idle, all ${together.processes} together: RSS ${together.rssMb} MB summed, PSS ${together.pssMb} MB. PSS counts each page the processes share (the executable's) once, so it adds up to what they take from the machine; RSS counts it once per process.</p>`
        : '';
      return `<h3>${esc(s.label)}</h3>${table(['process', 'CPU µs per chain request', 'CPU % of a core', 'idle RSS MB', 'idle PSS MB', 'peak RSS MB', 'CPU by thread'], rows)}${sum}`;
    })
    .join('');
}

function startupTables(report: BenchReport): string {
  const s = report.startup;
  if (!s) return '<p>Not measured (--startup-runs 0, or no own platform in the run).</p>';
  const roles = Object.entries(s.roles).flatMap(([artifact, list]) =>
    list.map((r) => {
      const limit = r.drivers ? TARGETS.startupWithDriversMs : TARGETS.startupMs;
      return [esc(artifact), esc(r.role), r.drivers ? 'yes' : 'no', r.medianMs.toFixed(1), r.maxMs.toFixed(1), `${r.ratioToBare.toFixed(2)}x`, r.rssMb.toFixed(1), `<= ${limit} ms`, artifact === 'binary' ? verdict(r.medianMs <= limit) : ''];
    }),
  );
  const bare = `<p>Bare compiled <code>Bun.serve</code>, built in this run as <code>build:binary</code> builds the service: median ${s.bare.medianMs} ms, max ${s.bare.maxMs} ms, RSS ${s.bare.rssMb} MB at the first 200.</p>`;
  const imports = table(
    ['import', 'adds ms', 'adds MB', 'ms to first 200', 'RSS MB'],
    s.imports.map((i) => [`${esc(i.module)}${i.packages.join() === i.module ? '' : `<br><small>${esc(i.packages.join(', '))}</small>`}`, i.addedMs.toFixed(1), i.addedMb.toFixed(1), i.medianMs.toFixed(1), i.rssMb.toFixed(1)]),
  );
  return `${bare}${table(['artifact', 'role', 'drivers', 'median ms', 'max ms', 'x bare', 'RSS at ready MB', 'target', ''], roles)}<h3>Import costs</h3><p>${esc(s.importMethod)}.</p>${imports}`;
}

function charts(report: BenchReport): string {
  const series: Series[] = report.scenarios.flatMap((r, i) => {
    const round = r.rounds.find((x) => x.round === r.chartRound);
    if (!round) return [];
    const out: Series[] = [{ name: `${r.label} chain (${round.chain.requestsPerSecond.toFixed(0)} req/s, round ${round.round})`, latency: round.chain.latency, colorIndex: i }];
    if (round.ceiling) out.push({ name: `${r.label} ceiling (${round.ceiling.requestsPerSecond.toFixed(0)} req/s)`, latency: round.ceiling.latency, dashed: true, colorIndex: i });
    return out;
  });
  if (series.length === 0) return '<p>No measured load.</p>';
  return `<p>Solid: the whole chain (<code>GET /api/greeting</code> on the edge), the round with the median req/s. Dashed: the ceiling (the edge's <code>/api/health</code>).</p>
<h3>Latency by percentile</h3>${percentileChart(series)}<h3>Latency distribution</h3>${histogramChart(series)}`;
}

export function htmlReport(report: BenchReport, text: string): string {
  const m = report.machine;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>greeting-mesh bench ${esc(report.startedAt)}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1200px}pre{font-size:12px;background:#f6f6f6;padding:12px;overflow-x:auto}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f0f0f0}
.met{color:#176b1d;font-weight:bold}.missed{color:#b00020;font-weight:bold}</style></head>
<body><h1>greeting-mesh load bench</h1>
<p>${esc(report.startedAt)} · ${m.cpus} × ${esc(m.cpuModel)} · Bun ${esc(m.bun)} · Node ${esc(m.node)} · ${report.options.rounds} round(s), alternating<br>
<code>${esc(report.command)}</code></p>
<h2>Targets</h2>${targetsTable(report)}
<h2>Scenarios side by side</h2>${figuresTable(report)}
<h2>Ratios</h2>${ratiosTable(report)}
<h2>Correctness under load</h2>${correctnessTable(report)}
<h2>Where the CPU goes</h2>${processesTables(report)}
<h2>Start-up</h2>${startupTables(report)}
<h2>Latency</h2>${charts(report)}
<h2>Summary</h2>
<pre>${esc(text)}</pre>
</body></html>
`;
}
