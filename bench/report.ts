/**
 * What a bench run produced, three ways: a text summary on stdout, the full results as JSON (for comparing runs), and an HTML
 * page with the latency charts and the summary table (for a person).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { histogramChart, percentileChart, type Series } from './chart';
import type { BenchOptions } from './options';
import type { ScenarioResult } from './scenario';
import type { StartupSample } from './startup';
import type { TargetCheck } from './targets';

export interface BenchReport {
  startedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; kernel: string; bun: string; node: string };
  options: BenchOptions;
  /** Exec-to-ready per artifact and role. */
  startup: Record<string, StartupSample[]>;
  scenarios: ScenarioResult[];
  targets: TargetCheck[];
}

export function machine(): BenchReport['machine'] {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    bun: bun?.version ?? 'none',
    // Under Bun, process.version is Bun's Node-compatibility version: ask the node on PATH, which the node artifact runs on.
    node: spawnSync('node', ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'none',
  };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

function loadLine(name: string, r: ScenarioResult['chain']): string {
  const l = r.latency;
  return (
    `  ${name.padEnd(8)} ${pad(r.requestsPerSecond.toFixed(0), 7)} req/s  p50 ${pad(l.p50Ms.toFixed(2), 6)}  p90 ${pad(l.p90Ms.toFixed(2), 6)}` +
    `  p99 ${pad(l.p99Ms.toFixed(2), 6)}  max ${pad(l.maxMs.toFixed(1), 6)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`
  );
}

/** "main 62%, HTTP Client 30%, ..." for the threads that used at least 2% of the role's CPU. */
function threadShares(byThread: Record<string, number>): string {
  const total = Object.values(byThread).reduce((a, b) => a + b, 0);
  if (total <= 0) return '';
  return Object.entries(byThread)
    .filter(([, s]) => s / total >= 0.02)
    .map(([name, s]) => `${name} ${Math.round((s / total) * 100)}%`)
    .join(', ');
}

export function scenarioText(r: ScenarioResult): string {
  const lines = [`\n== ${r.label}  (${r.chain.connections} connections, ${r.chain.durationS.toFixed(1)} s after ${r.warmupS} s of warm-up)`];
  lines.push(loadLine('chain', r.chain) + `   [GET /api/greeting on a, ${r.chain.requests} requests]`);
  lines.push(loadLine('ceiling', r.ceiling) + `   [GET /api/health on ${r.ceiling.role}]`);
  lines.push(`  ratio chain req/s x ${r.hops} / ceiling req/s = ${r.ratio.toFixed(3)}`);
  lines.push(`  load generator used ${r.loadGeneratorCpuPercent}% of a core; roles together ${r.rolesCpuPerRequestUs} µs CPU per chain request`);
  lines.push('  role   cpu s  cpu %  µs/req  idle RSS MB  peak RSS MB  CPU by thread');
  for (const [id, s] of Object.entries(r.roles)) {
    const perRequest = (s.chainCpuSeconds / Math.max(1, r.chain.requests)) * 1e6;
    lines.push(
      `  ${id.padEnd(4)} ${pad(s.chainCpuSeconds.toFixed(2), 7)} ${pad(s.chainCpuPercent.toFixed(0), 6)} ${pad(perRequest.toFixed(0), 7)}` +
        ` ${pad(s.idleRssMb.toFixed(1), 12)} ${pad(s.peakRssMb.toFixed(1), 12)}  ${threadShares(s.chainCpuByThread)}`,
    );
  }
  const jit = Object.values(r.roles).reduce((sum, s) => sum + (s.chainCpuByThread.JITWorker ?? 0), 0);
  const all = Object.values(r.roles).reduce((sum, s) => sum + s.chainCpuSeconds, 0);
  if (all > 0 && jit / all > 0.03) {
    lines.push(`  note: the JIT used ${Math.round((jit / all) * 100)}% of the roles' CPU during the measured load; a longer --warmup measures the steady state`);
  }
  if (r.dataPlane) {
    const d = r.dataPlane;
    lines.push(
      `  data plane (${r.backends}): ${d.published} published by D, ${d.stored} stored by F` +
        `${d.documents === undefined ? '' : `, ${d.documents} new documents in F's collection`}` +
        `${d.drained ? `, drained ${d.drainMs} ms after the load` : ' (the counters did not settle equal before --drain-timeout)'}`,
    );
    for (const server of r.dataPlaneServers ?? []) {
      lines.push(`  data-plane server ${server.name} (${server.url}): ${server.chainCpuSeconds} s CPU during the chain load, ${server.chainCpuPercent}% of a core`);
    }
  } else if (r.scenario.backends === 'memory') {
    lines.push('  data plane: in-memory per process (D and F share no queue), published = stored not checked');
  }
  if (r.tracing) {
    const t = r.tracing;
    lines.push(
      `  tracing: ${t.spans} spans in ${t.traces} traces (${t.posts} posts, ${t.rejected} rejected) for ${t.greetingRequests} greeting requests;` +
        ` collector used ${t.collectorCpuSeconds} s CPU`,
    );
  }
  return lines.join('\n');
}

export function startupText(startup: Record<string, StartupSample[]>): string {
  const lines: string[] = [];
  for (const [artifact, samples] of Object.entries(startup)) {
    lines.push(`\n== exec to readiness 200, ${artifact} (ms per run)`);
    for (const s of samples) lines.push(`  ${s.role.padEnd(4)} median ${pad(s.medianMs.toFixed(1), 6)}  max ${pad(s.maxMs.toFixed(1), 6)}   [${s.readyMs.join(', ')}]`);
  }
  return lines.join('\n');
}

export function targetsText(checks: TargetCheck[]): string {
  if (checks.length === 0) return '';
  const lines = ['\n== targets (2 cores, load generator on the same machine)'];
  for (const c of checks) lines.push(`  ${c.met ? 'met   ' : 'MISSED'}  ${c.target.padEnd(38)} ${c.scenario.padEnd(28)} ${c.measured}`);
  return lines.join('\n');
}

function html(report: BenchReport): string {
  const series: Series[] = report.scenarios.flatMap((r, i) => [
    { name: `${r.label} chain (${r.chain.requestsPerSecond.toFixed(0)} req/s)`, latency: r.chain.latency, colorIndex: i },
    { name: `${r.label} ceiling (${r.ceiling.requestsPerSecond.toFixed(0)} req/s)`, latency: r.ceiling.latency, dashed: true, colorIndex: i },
  ]);
  const text = [...report.scenarios.map(scenarioText), startupText(report.startup), targetsText(report.targets)].join('\n');
  const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>greeting-mesh bench ${esc(report.startedAt)}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1000px}pre{font-size:12px;background:#f6f6f6;padding:12px;overflow-x:auto}</style></head>
<body><h1>greeting-mesh load bench</h1>
<p>${esc(report.startedAt)} · ${report.machine.cpus} × ${esc(report.machine.cpuModel)} · Bun ${esc(report.machine.bun)} · Node ${esc(report.machine.node)}<br>
<code>${esc(report.command)}</code></p>
<h2>Latency by percentile</h2>
<p>Solid: the whole chain (<code>GET /api/greeting</code> on A). Dashed: the ceiling (one role's <code>/api/health</code>).</p>
${percentileChart(series)}
<h2>Latency distribution</h2>
${histogramChart(series)}
<h2>Summary</h2>
<pre>${esc(text)}</pre>
</body></html>
`;
}

/** Writes <stamp>.json and <stamp>.html into the output directory; returns their paths. */
export function writeReport(report: BenchReport, outDir: string): { json: string; html: string } {
  mkdirSync(outDir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const paths = { json: join(outDir, `bench-${stamp}.json`), html: join(outDir, `bench-${stamp}.html`) };
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.html, html(report));
  return paths;
}
