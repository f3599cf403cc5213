/**
 * What a bench run produced, three ways: a text summary on stdout, the full results as JSON (for comparing runs), and an HTML
 * page (for a person): every figure next to its target, the scenarios side by side with their ratios, correctness, start-up
 * against bare Bun, and the latency charts. The HTML tables are in html-report.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { htmlReport } from './html-report';
import type { BenchOptions } from './options';
import { exactShare, idleTogether, spreadText, threadShares } from './format';
import { FIGURES, type FigureKey, type Ratio } from './rounds';
import type { RoundResult, ScenarioResult } from './scenario';
import type { StartupReport } from './startup-suite';
import type { TargetCheck } from './targets';

export interface BenchReport {
  startedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; kernel: string; bun: string; node: string };
  options: BenchOptions;
  /** Exec to the first 200: the bare server, each role, each import. */
  startup?: StartupReport;
  scenarios: ScenarioResult[];
  /** Scenarios that could not run, and why. */
  failed: { label: string; error: string }[];
  ratios: Ratio[];
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

function loadLine(name: string, r: RoundResult['chain']): string {
  const l = r.latency;
  return (
    `  ${name.padEnd(10)} ${pad(r.requestsPerSecond.toFixed(0), 7)} req/s  p50 ${pad(l.p50Ms.toFixed(2), 6)}  p99 ${pad(l.p99Ms.toFixed(2), 6)}` +
    `  max ${pad(l.maxMs.toFixed(1), 6)} ms  non-2xx ${r.non2xx}  unanswered ${r.errors}${r.correctness ? `  wrong ${r.correctness.wrong}` : ''}`
  );
}


export function scenarioText(r: ScenarioResult): string {
  const first = r.rounds[0];
  const lines = [
    `\n== ${r.label}  (${r.edgeUrl}; ${first?.chain.connections ?? '?'} connections, ${r.rounds.length} round(s) of ${first?.chain.durationS.toFixed(1) ?? '?'} s after ${r.setup.warmupS} s of warm-up)`,
  ];
  for (const round of r.rounds) {
    lines.push(loadLine(`chain #${round.round}`, round.chain));
    if (round.ceiling) lines.push(loadLine(`ceiling #${round.round}`, round.ceiling));
  }
  if (r.setup.ceilingSkipped) lines.push(`  ceiling: ${r.setup.ceilingSkipped}`);
  lines.push(`  figures (median${r.rounds.length > 1 ? ' [min-max] over the rounds' : ''}):`);
  for (const [key, figure] of Object.entries(FIGURES) as [FigureKey, (typeof FIGURES)[FigureKey]][]) {
    const s = r.summary[key];
    if (s) lines.push(`    ${figure.label.padEnd(52)} ${spreadText(s, FIGURES[key].digits)} ${figure.unit}`);
  }
  const c = r.correctness;
  const reasons = Object.entries(c.reasons).sort(([, a], [, b]) => b - a).map(([why, n]) => `${n}x ${why}`);
  lines.push(`  correctness: ${exactShare(c.exact, c.checked + r.unanswered)} exact; ${c.checked} answers checked (warm-up included): ${c.exact} exact, ${c.wrong} wrong, ${r.unanswered} unanswered${reasons.length ? `; ${reasons.slice(0, 3).join('; ')}` : ''}`);
  const names = Object.keys(r.processSummary);
  if (names.length > 0) {
    const chart = r.rounds.find((x) => x.round === r.chartRound);
    lines.push('  process      µs/req        cpu %   idle RSS MB  idle PSS MB  peak RSS MB  CPU by thread');
    for (const name of names) {
      const s = r.processSummary[name]!;
      const idle = r.setup.idle[name];
      lines.push(
        `  ${name.padEnd(10)} ${pad(spreadText(s.cpuPerRequestUs), 12)} ${pad(spreadText(s.chainCpuPercent), 12)} ${pad(idle ? idle.idleRssMb.toFixed(1) : '-', 12)}` +
          ` ${pad(idle ? idle.idlePssMb.toFixed(1) : '-', 12)} ${pad(s.peakRssMb.toFixed(1), 12)}  ${threadShares(chart?.processes[name]?.chainCpuByThread ?? {})}`,
      );
    }
    const together = idleTogether(r);
    if (together) lines.push(`  idle, all ${together.processes} together: RSS ${together.rssMb} MB summed, PSS ${together.pssMb} MB (what they take from the machine: RSS counts the pages they share once per process)`);
  } else {
    lines.push('  processes: none known (give --target-pids for CPU and memory)');
  }
  for (const check of r.stored ?? []) {
    lines.push(`  stored = answered? ${check.collection} (greetings of ${check.roles.join(', ')}): ${check.stored} stored, ${check.answered} answered${check.sampleFound === undefined ? '' : check.sampleFound ? ', last exact answer found by id' : ', last exact answer NOT found by id'}`);
  }
  const drained = r.rounds.at(-1)?.dataPlane;
  if (drained) lines.push(`  D/F counters: ${drained.published} published, ${drained.stored} stored${drained.drained ? `, drained ${drained.drainMs} ms after the load` : ' (did not settle before --drain-timeout)'}`);
  for (const server of r.rounds.at(-1)?.dataPlaneServers ?? []) lines.push(`  data-plane server ${server.name} (${server.url}): ${server.chainCpuPercent}% of a core during the last chain load`);
  if (r.tracing) {
    const t = r.tracing;
    lines.push(`  tracing: ${t.spans} spans in ${t.traces} traces (${t.posts} posts, ${t.rejected} rejected) for ${t.greetingRequests} greeting requests; collector used ${t.collectorCpuSeconds} s CPU`);
  }
  if (r.failures.length > 0) lines.push(`  ENDED DURING THE RUN: ${r.failures.join(', ')}`);
  return lines.join('\n');
}

export function startupText(startup: StartupReport | undefined): string {
  if (!startup) return '';
  const lines = [`\n== exec to ${startup.probe} 200 (median of ${startup.runs} runs; ratio to a bare compiled Bun.serve built in this run)`];
  lines.push(`  bare Bun.serve  median ${startup.bare.medianMs} ms  max ${startup.bare.maxMs} ms  RSS ${startup.bare.rssMb} MB`);
  for (const [artifact, roles] of Object.entries(startup.roles)) {
    lines.push(`  ${artifact}: role  drivers  median ms  max ms  x bare  RSS at ready MB`);
    for (const s of roles) lines.push(`    ${s.role.padEnd(4)}  ${(s.drivers ? 'yes' : 'no').padEnd(7)} ${pad(s.medianMs.toFixed(1), 9)} ${pad(s.maxMs.toFixed(1), 7)} ${pad(s.ratioToBare.toFixed(2), 7)} ${pad(s.rssMb.toFixed(1), 9)}`);
  }
  if (startup.imports.length > 0) {
    lines.push(`  import costs (${startup.importMethod}):`);
    for (const i of startup.imports) lines.push(`    ${i.module.padEnd(20)} +${pad(i.addedMs.toFixed(1), 5)} ms  +${pad(i.addedMb.toFixed(1), 5)} MB   (${i.medianMs} ms, ${i.rssMb} MB)`);
  }
  return lines.join('\n');
}

export function ratiosText(ratios: Ratio[]): string {
  if (ratios.length === 0) return '';
  const lines = ['\n== ratios of the medians (numerator / denominator)'];
  for (const r of ratios) {
    const figures = Object.entries(r.figures).map(([k, v]) => `${FIGURES[k as FigureKey].label} ${v.toFixed(2)}`);
    lines.push(`  ${r.name}: ${figures.join(', ')}${r.name.includes(' / ') ? '' : `   [${r.numerator} / ${r.denominator}]`}`);
  }
  return lines.join('\n');
}

export function targetsText(checks: TargetCheck[]): string {
  if (checks.length === 0) return '';
  const lines = ['\n== targets (2 cores, load generator on the same machine; medians over the rounds)'];
  for (const c of checks) lines.push(`  ${c.met ? 'met   ' : 'MISSED'}  ${c.target.padEnd(62)} ${c.scenario.padEnd(32)} ${c.measured}${c.note ? `  (${c.note})` : ''}`);
  return lines.join('\n');
}

export function reportText(report: BenchReport): string {
  const failed = report.failed.map((f) => `\n== ${f.label}: FAILED: ${f.error}`);
  return [startupText(report.startup), ...report.scenarios.map(scenarioText), ...failed, ratiosText(report.ratios), targetsText(report.targets)].filter(Boolean).join('\n');
}

/** Writes <stamp>.json and <stamp>.html into the output directory; returns their paths. */
export function writeReport(report: BenchReport, outDir: string): { json: string; html: string } {
  mkdirSync(outDir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const paths = { json: join(outDir, `bench-${stamp}.json`), html: join(outDir, `bench-${stamp}.html`) };
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths.html, htmlReport(report, reportText(report)));
  return paths;
}
