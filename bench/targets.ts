/**
 * The issue's targets for this 2-core machine, checked against what was measured: medians over the rounds, with their ranges.
 * A target whose scenario did not run is left out rather than guessed. The chain targets apply to the bench's own platform and
 * to URL targets alike (a target is another build or implementation of the same API); the bare Bun chain is the floor they
 * are compared with, not a subject of the targets.
 */
import { exactShare } from './format';
import type { ScenarioResult } from './scenario';
import type { StartupReport } from './startup-suite';
import type { Spread } from './rounds';

export interface TargetCheck {
  target: string;
  scenario: string;
  /** The figure as measured, in words. */
  measured: string;
  /** Median and range over the rounds, when the figure has one per round. */
  spread?: Spread;
  met: boolean;
  /** Why the figure may not be what the target means (a different concurrency, ...). */
  note?: string;
}

export const TARGETS = {
  /** In-memory, eight processes of the binary, tracing off. */
  chainCpuPerRequestUs: 350,
  chainCpuVsBare: 1.3,
  chainRps: 4000,
  chainConcurrency: 25,
  chainP99Ms: 15,
  /** With real RabbitMQ and FerretDB. */
  dataPlaneCpuPerRequestUs: 2000,
  startupMs: 20,
  startupWithDriversMs: 30,
  idleRssMb: 40,
  idleRssWithDriversMb: 50,
  tracingShare: 0.6,
};

const fmt = (s: Spread | undefined, unit: string, digits = 0) =>
  s === undefined ? 'not measured' : `${s.median.toFixed(digits)} ${unit}${s.n > 1 ? ` (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})` : ''}`;

/** The in-memory, untraced HTTP chain of the binary: what the chain targets are about. */
function isChainScenario(r: ScenarioResult): boolean {
  const s = r.scenario;
  return s.kind === 'target' || (s.kind === 'platform' && s.artifact === 'binary' && s.backends === 'memory' && s.tracing === 'off' && s.transport === 'http');
}

/** Answers that were not exactly right plus requests that got none, over every load of the scenario. */
export function errorsOf(r: ScenarioResult): number {
  return r.correctness.wrong + r.unanswered;
}

function correctnessText(r: ScenarioResult): string {
  const c = r.correctness;
  const reasons = Object.entries(c.reasons)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 2)
    .map(([why, n]) => `${n}x ${why}`)
    .join('; ');
  return `${exactShare(c.exact, c.checked + r.unanswered)} exact: ${c.checked} answers, ${c.wrong} wrong${reasons ? ` (${reasons})` : ''}, ${r.unanswered} unanswered`;
}

function chainChecks(r: ScenarioResult, bare: ScenarioResult | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const cpu = r.summary.cpuPerRequestUs;
  if (cpu) {
    checks.push({ target: `CPU per chain request <= ${TARGETS.chainCpuPerRequestUs} µs`, scenario: r.label, measured: fmt(cpu, 'µs'), spread: cpu, met: cpu.median <= TARGETS.chainCpuPerRequestUs });
    const floor = bare?.summary.cpuPerRequestUs;
    if (floor) {
      const ratio = cpu.median / floor.median;
      checks.push({
        target: `CPU per chain request <= ${TARGETS.chainCpuVsBare}x bare Bun`,
        scenario: r.label,
        measured: `${ratio.toFixed(2)}x (${cpu.median.toFixed(0)} vs ${floor.median.toFixed(0)} µs)`,
        met: ratio <= TARGETS.chainCpuVsBare,
      });
    }
  }
  const note = r.rounds[0] && r.rounds[0].chain.connections !== TARGETS.chainConcurrency ? `measured at c=${r.rounds[0].chain.connections}; the target is for c=${TARGETS.chainConcurrency}` : undefined;
  const rps = r.summary.chainRps;
  if (rps) checks.push({ target: `chain >= ${TARGETS.chainRps} req/s at c=${TARGETS.chainConcurrency}`, scenario: r.label, measured: fmt(rps, 'req/s'), spread: rps, met: rps.median >= TARGETS.chainRps, note });
  const p99 = r.summary.chainP99Ms;
  if (p99) checks.push({ target: `chain p99 < ${TARGETS.chainP99Ms} ms`, scenario: r.label, measured: fmt(p99, 'ms', 2), spread: p99, met: p99.median < TARGETS.chainP99Ms, note });
  return checks;
}

function dataPlaneChecks(r: ScenarioResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const s = r.scenario;
  const cpu = r.summary.cpuPerRequestUs;
  if (s.kind === 'platform' && s.tracing === 'off' && cpu) {
    checks.push({ target: `data plane: CPU per chain request <= ${TARGETS.dataPlaneCpuPerRequestUs / 1000} ms`, scenario: r.label, measured: fmt(cpu, 'µs'), spread: cpu, met: cpu.median <= TARGETS.dataPlaneCpuPerRequestUs });
  }
  if (r.stored) {
    const text = r.stored.map((c) => `${c.collection} ${c.stored}/${c.answered}${c.sampleFound === false ? ' (sample id missing)' : ''}`).join(', ');
    checks.push({ target: 'stored = answered, per collection', scenario: r.label, measured: text, met: r.stored.every((c) => c.stored === c.answered && c.sampleFound !== false) });
  }
  const drains = r.rounds.map((x) => x.dataPlane).filter((d) => d !== undefined);
  if (drains.length > 0) {
    const last = drains[drains.length - 1]!;
    checks.push({
      target: 'published = stored (D and F counters)',
      scenario: r.label,
      measured: `${last.published} published, ${last.stored} stored${drains.every((d) => d.drained) ? '' : ', not drained in time'}`,
      met: drains.every((d) => d.drained && d.published === d.stored),
    });
  }
  return checks;
}

function memoryChecks(r: ScenarioResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const idle = Object.entries(r.setup.idle);
  for (const drivers of [false, true]) {
    const group = idle.filter(([, p]) => p.drivers === drivers).sort(([, a], [, b]) => b.idleRssMb - a.idleRssMb);
    const fattest = group[0];
    if (!fattest) continue;
    const limit = drivers ? TARGETS.idleRssWithDriversMb : TARGETS.idleRssMb;
    checks.push({
      target: `idle RSS per process ${drivers ? 'with' : 'without'} drivers <= ${limit} MB`,
      scenario: r.label,
      measured: `max ${fattest[1].idleRssMb} MB (${fattest[0]}); its PSS ${fattest[1].idlePssMb} MB`,
      met: fattest[1].idleRssMb <= limit,
    });
  }
  return checks;
}

function startupChecks(startup: StartupReport | undefined): TargetCheck[] {
  const roles = startup?.roles.binary;
  if (!startup || !roles) return [];
  const checks: TargetCheck[] = [];
  for (const drivers of [false, true]) {
    const slowest = roles.filter((s) => s.drivers === drivers).sort((a, b) => b.medianMs - a.medianMs)[0];
    if (!slowest) continue;
    const limit = drivers ? TARGETS.startupWithDriversMs : TARGETS.startupMs;
    checks.push({
      target: `exec to ${startup.probe} 200 ${drivers ? 'with' : 'without'} drivers <= ${limit} ms`,
      scenario: 'binary start-up',
      measured: `slowest median ${slowest.medianMs} ms (${slowest.role}), ${slowest.ratioToBare}x bare Bun's ${startup.bare.medianMs} ms`,
      met: slowest.medianMs <= limit,
    });
  }
  return checks;
}

export function checkTargets(results: ScenarioResult[], startup: StartupReport | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const bare = results.find((r) => r.scenario.kind === 'bare');
  for (const r of results) {
    const s = r.scenario;
    checks.push({ target: 'zero errors (no answer, or not exactly the expected greetings)', scenario: r.label, measured: correctnessText(r), met: errorsOf(r) === 0 && r.correctness.checked > 0 });
    if (r.failures.length > 0) checks.push({ target: 'no process ends during the run', scenario: r.label, measured: r.failures.join(', '), met: false });
    if (isChainScenario(r)) checks.push(...chainChecks(r, bare));
    if (s.kind === 'platform' && s.backends !== 'memory') checks.push(...dataPlaneChecks(r));
    if (s.kind === 'platform' && s.tracing === 'on') {
      const off = results.find((o) => o.scenario.kind === 'platform' && o.scenario.tracing === 'off' && o.scenario.artifact === s.artifact && o.scenario.backends === s.backends && o.scenario.transport === s.transport);
      const on = r.summary.chainRps?.median;
      const base = off?.summary.chainRps?.median;
      if (on !== undefined && base) {
        const share = on / base;
        checks.push({ target: `tracing on >= ${TARGETS.tracingShare * 100}% of off`, scenario: r.label, measured: `${Math.round(share * 100)}% (${on.toFixed(0)} / ${base.toFixed(0)} req/s, medians)`, met: share >= TARGETS.tracingShare });
      }
      const spans = r.tracing?.spans ?? 0;
      checks.push({ target: 'spans reach the collector', scenario: r.label, measured: `${spans} spans`, met: spans > 0 });
    }
    if (s.kind !== 'bare') checks.push(...memoryChecks(r));
  }
  checks.push(...startupChecks(startup));
  return checks;
}
