/**
 * The issue's targets for this 2-core machine, checked against what was measured. A target whose scenario did not run is
 * left out rather than guessed.
 */
import type { ScenarioResult } from './scenario';
import type { StartupSample } from './startup';

export interface TargetCheck {
  target: string;
  scenario: string;
  measured: string;
  met: boolean;
}

export const TARGETS = {
  chainRps: 4000,
  chainP99Ms: 15,
  tracingShare: 0.6,
  idleRssMb: 60,
  binaryReadyMs: 100,
};

const errorsOf = (r: ScenarioResult) => r.chain.errors + r.chain.non2xx;

export function checkTargets(results: ScenarioResult[], startup: Record<string, StartupSample[]>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const r of results) {
    const { backends, tracing } = r.scenario;
    if (backends === 'memory' && tracing === 'off') {
      checks.push({ target: `chain >= ${TARGETS.chainRps} req/s`, scenario: r.label, measured: `${r.chain.requestsPerSecond} req/s`, met: r.chain.requestsPerSecond >= TARGETS.chainRps });
      checks.push({ target: `chain p99 < ${TARGETS.chainP99Ms} ms`, scenario: r.label, measured: `${r.chain.latency.p99Ms} ms`, met: r.chain.latency.p99Ms < TARGETS.chainP99Ms });
    }
    checks.push({ target: 'zero errors and non-2xx', scenario: r.label, measured: `${r.chain.errors} errors, ${r.chain.non2xx} non-2xx`, met: errorsOf(r) === 0 });
    if (tracing === 'on') {
      const off = results.find((o) => o.scenario.artifact === r.scenario.artifact && o.scenario.backends === backends && o.scenario.transport === r.scenario.transport && o.scenario.tracing === 'off');
      if (off) {
        const share = r.chain.requestsPerSecond / off.chain.requestsPerSecond;
        checks.push({ target: `tracing on >= ${TARGETS.tracingShare * 100}% of off`, scenario: r.label, measured: `${Math.round(share * 100)}%`, met: share >= TARGETS.tracingShare });
      }
      const spans = r.tracing?.spans ?? 0;
      checks.push({ target: 'spans reach the collector', scenario: r.label, measured: `${spans} spans`, met: spans > 0 });
    }
    if (r.dataPlane) {
      const d = r.dataPlane;
      const documentsMatch = d.documents === undefined || d.documents === d.stored;
      checks.push({
        target: 'published = stored',
        scenario: r.label,
        measured: `${d.published} published, ${d.stored} stored${d.documents === undefined ? '' : `, ${d.documents} documents`}`,
        met: d.drained && d.published === d.stored && documentsMatch,
      });
    }
    const fattest = Object.entries(r.roles).sort(([, a], [, b]) => b.idleRssMb - a.idleRssMb)[0];
    if (fattest) {
      checks.push({ target: `idle RSS per role <= ${TARGETS.idleRssMb} MB`, scenario: r.label, measured: `max ${fattest[1].idleRssMb} MB (${fattest[0]})`, met: fattest[1].idleRssMb <= TARGETS.idleRssMb });
    }
  }
  const binary = startup.binary;
  if (binary && binary.length > 0) {
    const slowest = [...binary].sort((a, b) => b.maxMs - a.maxMs)[0]!;
    checks.push({ target: `binary ready <= ${TARGETS.binaryReadyMs} ms after exec`, scenario: 'binary', measured: `max ${slowest.maxMs} ms (${slowest.role})`, met: slowest.maxMs <= TARGETS.binaryReadyMs });
  }
  return checks;
}
